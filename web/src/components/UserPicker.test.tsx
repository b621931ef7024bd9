import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, test } from "vitest";
import { UserPicker, choose, personLabel, unchoose } from "./UserPicker";

const ada = { id: "u-ada", name: "Ada Lovelace", email: "ada@acme.example" };
const alan = { id: "u-alan", name: "Alan Turing", email: "alan@acme.example" };

function Harness({ client, multiple, initial }: { client: QueryClient; multiple: boolean; initial: string[] }) {
  const [value, setValue] = useState(initial);
  return (
    <QueryClientProvider client={client}>
      <UserPicker label="Approvers" multiple={multiple} value={value} onChange={setValue} />
      <output data-testid="value">{value.join(",")}</output>
    </QueryClientProvider>
  );
}

/** A client whose cache already holds what the users API answers (no network in a unit test). */
function seeded(): QueryClient {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  client.setQueryData(["users", "one", ada.id], ada);
  client.setQueryData(["users", "one", alan.id], alan);
  client.setQueryData(["users", "search", "a"], { items: [ada, alan], next_cursor: null });
  return client;
}

afterEach(cleanup);

describe("choosing people", () => {
  test("several: appended once, bounded; one: replaced; removal by id", () => {
    expect(choose(["a"], "b", true, 5)).toEqual(["a", "b"]);
    expect(choose(["a", "b"], "b", true, 5)).toEqual(["a", "b"]);
    expect(choose(["a", "b"], "c", true, 2)).toEqual(["a", "b"]);
    expect(choose(["a"], "b", false, 5)).toEqual(["b"]);
    expect(unchoose(["a", "b"], "a")).toEqual(["b"]);
    expect(personLabel(ada, ada.id)).toBe("Ada Lovelace (ada@acme.example)");
    expect(personLabel(undefined, "0123456789")).toBe("01234567");
  });

  test("the chosen show as chips with a labelled remove button that takes them out", () => {
    render(<Harness client={seeded()} multiple initial={[ada.id, alan.id]} />);
    expect(screen.getByRole("list", { name: "Approvers: Chosen" }).textContent).toContain("Ada Lovelace (ada@acme.example)");
    fireEvent.click(screen.getByRole("button", { name: "Remove Ada Lovelace" }));
    expect(screen.getByTestId("value").textContent).toBe(alan.id);
  });

  test("typing searches; a match is chosen by its button, or the first by Enter; the chosen drop out of the matches", async () => {
    render(<Harness client={seeded()} multiple initial={[]} />);
    const box = screen.getByRole("searchbox", { name: "Approvers" });
    fireEvent.change(box, { target: { value: "a" } });
    const choose = await screen.findByRole("button", { name: "Choose Alan Turing (alan@acme.example)" });
    fireEvent.click(choose);
    expect(screen.getByTestId("value").textContent).toBe(alan.id);
    fireEvent.change(box, { target: { value: "a" } });
    await waitFor(() => expect(screen.getByRole("list", { name: "People matching “a”" }).textContent).not.toContain("Alan"));
    fireEvent.keyDown(box, { key: "Enter" });
    expect(screen.getByTestId("value").textContent).toBe(`${alan.id},${ada.id}`);
  });

  test("one person: choosing another replaces the first", async () => {
    render(<Harness client={seeded()} multiple={false} initial={[ada.id]} />);
    fireEvent.change(screen.getByRole("searchbox", { name: "Approvers" }), { target: { value: "a" } });
    fireEvent.click(await screen.findByRole("button", { name: "Choose Alan Turing (alan@acme.example)" }));
    expect(screen.getByTestId("value").textContent).toBe(alan.id);
  });
});
