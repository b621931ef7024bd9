import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, test } from "vitest";
import { CiEditor } from "./CiEditor";
import { cmdbKeys, type CIClass } from "./api";

const switches: CIClass = {
  id: "k1",
  key: "switch",
  name: "Switch",
  description: "",
  attributes_schema: {
    type: "object",
    required: ["ports"],
    properties: { ports: { type: "integer" }, poe: { type: "boolean", title: "PoE" }, speed: { type: "string", enum: ["1G", "10G"] }, bought: { type: "string", format: "date" } },
  },
  position: 1,
  builtin: false,
  version: 1,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

afterEach(cleanup);

describe("the CI form", () => {
  test("choosing a class shows its attributes as inputs of their kind; a required one left empty is marked before sending", async () => {
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    client.setQueryData(cmdbKeys.classes, { items: [switches], next_cursor: null });
    render(
      <QueryClientProvider client={client}>
        <CiEditor ci={null} onSaved={() => undefined} />
      </QueryClientProvider>,
    );
    expect(screen.queryByRole("spinbutton")).toBeNull();
    fireEvent.change(screen.getByRole("combobox", { name: /Class/ }), { target: { value: "k1" } });
    expect(screen.getByRole("spinbutton", { name: /Ports/ })).toBeTruthy();
    expect(screen.getByRole("checkbox", { name: "PoE" })).toBeTruthy();
    expect(screen.getByRole("combobox", { name: "Speed" })).toBeTruthy();
    expect((screen.getByLabelText("Bought") as HTMLInputElement).type).toBe("date");
    fireEvent.change(screen.getByRole("textbox", { name: /^Name/ }), { target: { value: "Core" } });
    fireEvent.click(screen.getByRole("button", { name: "Create configuration item" }));
    expect(await screen.findByText("Please correct the marked fields.")).toBeTruthy();
    expect(screen.getByRole("spinbutton", { name: /Ports/ }).getAttribute("aria-invalid")).toBe("true");
  });
});
