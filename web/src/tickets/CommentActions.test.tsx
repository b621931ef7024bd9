import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { describe, expect, test } from "vitest";
import type { Comment } from "../api/types";
import { CommentActions, canEdit } from "./CommentActions";

const comment = (over: Partial<Comment>): Comment => ({
  id: "C1",
  ticket_id: "T1",
  author_id: "U1",
  visibility: "public",
  body: "hello",
  created_at: "2026-01-01T12:00:00Z",
  edited_at: null,
  deleted_at: null,
  editable_until: null,
  can_delete: false,
  ...over,
});

describe("comment actions", () => {
  const now = Date.parse("2026-01-01T12:05:00Z");

  test("edit only within the window the API gives, never a deleted comment", () => {
    expect(canEdit(comment({ editable_until: "2026-01-01T12:15:00Z" }), now)).toBe(true);
    expect(canEdit(comment({ editable_until: "2026-01-01T12:01:00Z" }), now)).toBe(false);
    expect(canEdit(comment({}), now)).toBe(false);
    expect(canEdit(comment({ editable_until: "2026-01-01T12:15:00Z", deleted_at: "2026-01-01T12:04:00Z" }), now)).toBe(false);
  });

  test("the buttons follow what the API says the caller may do", () => {
    const show = (c: Comment) =>
      render(
        <QueryClientProvider client={new QueryClient()}>
          <CommentActions ticketId="T1" comment={c} internal={false}>
            <p>{c.body}</p>
          </CommentActions>
        </QueryClientProvider>,
      );
    const future = new Date(Date.now() + 600_000).toISOString();
    const { unmount } = show(comment({ editable_until: future, can_delete: true }));
    expect(screen.getByRole("button", { name: "Edit your message" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Delete this message" })).toBeTruthy();
    unmount();
    show(comment({ can_delete: true }));
    expect(screen.queryByRole("button", { name: "Edit your message" })).toBeNull();
    expect(screen.getByRole("button", { name: "Delete this message" })).toBeTruthy();
  });
});
