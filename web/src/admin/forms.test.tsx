import { act, renderHook } from "@testing-library/react";
import { describe, expect, test, vi } from "vitest";
import { ApiError } from "../api/problem";
import { unplaced, useEditor } from "./forms";

interface Thing {
  id: string;
  name: string;
  version: number;
}
type Form = { name: string };

const toForm = (t: Thing | null): Form => ({ name: t?.name ?? "" });
const tag = (t: Thing) => `"${t.version}"`;
const problem = (status: number, errors: { field: string; detail: string }[] = []) =>
  new ApiError(status, { type: "about:blank", title: "x", status, errors });

describe("useEditor", () => {
  test("an update sends the version it started from, and the answer becomes the new base", async () => {
    const update = vi.fn(async (form: Form, base: Thing, ifMatch: string) => ({ ...base, name: form.name, version: base.version + 1, ifMatch }));
    const { result } = renderHook(() => useEditor<Thing, Form>({ entity: { id: "1", name: "a", version: 3 }, toForm, tag, update }));
    act(() => result.current.set("name", "b"));
    expect(result.current.dirty).toBe(true);
    await act(() => result.current.submit());
    expect(update).toHaveBeenCalledWith({ name: "b" }, { id: "1", name: "a", version: 3 }, '"3"');
    expect(result.current.saved).toBe(true);
    expect(result.current.dirty).toBe(false);
  });

  test("a 412 reloads, says so, keeps what was typed, and the next save carries the new version", async () => {
    const update = vi
      .fn<(form: Form, base: Thing, ifMatch: string) => Promise<Thing>>()
      .mockRejectedValueOnce(problem(412))
      .mockImplementationOnce(async (form, base) => ({ ...base, name: form.name, version: base.version + 1 }));
    const reload = vi.fn(async () => ({ id: "1", name: "theirs", version: 4 }));
    const { result } = renderHook(() => useEditor<Thing, Form>({ entity: { id: "1", name: "a", version: 3 }, toForm, tag, update, reload }));
    act(() => result.current.set("name", "mine"));
    await act(() => result.current.submit());
    expect(result.current.conflict).toBe(true);
    expect(result.current.form.name).toBe("mine");
    await act(() => result.current.submit());
    expect(update).toHaveBeenLastCalledWith({ name: "mine" }, { id: "1", name: "theirs", version: 4 }, '"4"');
    expect(result.current.conflict).toBe(false);
  });

  test("discarding after a 412 shows theirs", async () => {
    const update = vi.fn(async () => Promise.reject(problem(412)));
    const reload = vi.fn(async () => ({ id: "1", name: "theirs", version: 4 }));
    const { result } = renderHook(() => useEditor<Thing, Form>({ entity: { id: "1", name: "a", version: 3 }, toForm, tag, update, reload }));
    act(() => result.current.set("name", "mine"));
    await act(() => result.current.submit());
    act(() => result.current.discard());
    expect(result.current.form.name).toBe("theirs");
  });

  test("field errors from the server are kept by field, and the input stays", async () => {
    const create = vi.fn(async () => Promise.reject(problem(422, [{ field: "name", detail: "taken" }])));
    const { result } = renderHook(() => useEditor<Thing, Form>({ entity: null, toForm, tag, create }));
    act(() => result.current.set("name", "Dup"));
    await act(() => result.current.submit());
    expect(result.current.errors).toEqual({ name: "taken" });
    expect(result.current.form.name).toBe("Dup");
  });

  test("a retried create with the same body reuses its Idempotency-Key; a changed body gets a new one", async () => {
    const create = vi.fn<(form: Form, key: string) => Promise<Thing>>().mockRejectedValue(problem(503));
    const { result } = renderHook(() => useEditor<Thing, Form>({ entity: null, toForm, tag, create }));
    act(() => result.current.set("name", "x"));
    await act(() => result.current.submit());
    await act(() => result.current.submit());
    act(() => result.current.set("name", "y"));
    await act(() => result.current.submit());
    const keys = create.mock.calls.map((c) => c[1]);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  test("client checks stop the save", async () => {
    const create = vi.fn();
    const { result } = renderHook(() => useEditor<Thing, Form>({ entity: null, toForm, tag, create, validate: (f): Record<string, string> => (f.name ? {} : { name: "required" }) }));
    await act(() => result.current.submit());
    expect(create).not.toHaveBeenCalled();
    expect(result.current.errors).toEqual({ name: "required" });
  });

  test("a newer copy replaces an untouched form but not an edited one", () => {
    let entity: Thing = { id: "1", name: "a", version: 1 };
    const { result, rerender } = renderHook(() => useEditor<Thing, Form>({ entity, toForm, tag }));
    entity = { id: "1", name: "b", version: 2 };
    rerender();
    expect(result.current.form.name).toBe("b");
    act(() => result.current.set("name", "mine"));
    entity = { id: "1", name: "c", version: 3 };
    rerender();
    expect(result.current.form.name).toBe("mine");
  });
});

describe("rebase", () => {
  test("after a 412 the fields the person left alone take the other person's values", async () => {
    type Two = { a: string; b: string };
    interface Pair extends Two {
      version: number;
    }
    const update = vi
      .fn<(form: Two, base: Pair, ifMatch: string) => Promise<Pair>>()
      .mockRejectedValueOnce(problem(412))
      .mockImplementationOnce(async (form, base) => ({ ...form, version: base.version + 1 }));
    const reload = vi.fn(async () => ({ a: "a", b: "theirs", version: 2 }));
    const { result } = renderHook(() =>
      useEditor<Pair, Two>({ entity: { a: "a", b: "b", version: 1 }, toForm: (p) => ({ a: p?.a ?? "", b: p?.b ?? "" }), tag: (p) => String(p.version), update, reload }),
    );
    act(() => result.current.set("a", "mine"));
    await act(() => result.current.submit());
    expect(result.current.form).toEqual({ a: "mine", b: "theirs" });
    await act(() => result.current.submit());
    expect(update).toHaveBeenLastCalledWith({ a: "mine", b: "theirs" }, { a: "a", b: "theirs", version: 2 }, "2");
  });
});

describe("unplaced", () => {
  test("errors no field shows", () => {
    expect(unplaced({ name: "x", "week.0.1": "y", body: "z" }, ["name", "week"])).toEqual([["body", "z"]]);
  });
});
