import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, test } from "vitest";
import { ApiError } from "../api/problem";
import type { Tagged } from "./api";
import type { Errors } from "./forms";
import { useSettings, useSettingsForm, type SettingsSection } from "./settings";

interface Limits {
  max: number;
  note: string;
}
type Form = { max: string };

/** A settings section held in memory, with the server's rules: a PUT must carry the
 * current ETag, and every replace makes a new one. */
function memorySection(initial: Limits) {
  const store = { value: initial, version: 1, puts: [] as { body: Limits; ifMatch: string }[] };
  const tagged = (): Tagged<Limits> => ({ data: store.value, etag: `"${store.version}"` });
  const section: SettingsSection<Limits> = {
    key: ["test", "limits"],
    get: async () => tagged(),
    put: async (body, ifMatch) => {
      store.puts.push({ body, ifMatch });
      if (ifMatch !== `"${store.version}"`) throw new ApiError(412, { type: "about:blank", title: "Precondition Failed", status: 412 });
      store.value = body;
      store.version += 1;
      return tagged();
    },
  };
  return { store, section };
}

const toForm = (t: Tagged<Limits> | null): Form => ({ max: String(t?.data.max ?? 0) });
const toBody = (form: Form, base: Limits): Limits => ({ ...base, max: Number(form.max) });

function setup(initial: Limits) {
  const { store, section } = memorySection(initial);
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  const loaded = renderHook(() => useSettings(section), { wrapper });
  return { store, section, client, wrapper, loaded };
}

describe("useSettingsForm", () => {
  test("a save sends the whole section with the ETag it was read with, and the cache takes the answer", async () => {
    const { store, section, client, wrapper, loaded } = setup({ max: 5, note: "kept" });
    await waitFor(() => expect(loaded.result.current.data).toBeDefined());
    const settings = loaded.result.current.data as Tagged<Limits>;
    const { result } = renderHook(() => useSettingsForm(section, settings, { toForm, toBody }), { wrapper });
    act(() => result.current.set("max", "9"));
    expect(result.current.dirty).toBe(true);
    await act(() => result.current.submit());
    expect(store.puts).toEqual([{ body: { max: 9, note: "kept" }, ifMatch: '"1"' }]);
    expect(result.current.saved).toBe(true);
    expect(result.current.dirty).toBe(false);
    expect(client.getQueryData(section.key)).toEqual({ data: { max: 9, note: "kept" }, etag: '"2"' });
  });

  test("someone else's save first: a 412 reloads their version, keeps the edit, and the next save carries their ETag", async () => {
    const { store, section, wrapper, loaded } = setup({ max: 5, note: "mine" });
    await waitFor(() => expect(loaded.result.current.data).toBeDefined());
    const settings = loaded.result.current.data as Tagged<Limits>;
    await section.put({ max: 5, note: "theirs" }, '"1"');
    const { result } = renderHook(() => useSettingsForm(section, settings, { toForm, toBody }), { wrapper });
    act(() => result.current.set("max", "7"));
    await act(() => result.current.submit());
    expect(result.current.conflict).toBe(true);
    expect(result.current.form.max).toBe("7");
    await act(() => result.current.submit());
    expect(store.puts.at(-1)).toEqual({ body: { max: 7, note: "theirs" }, ifMatch: '"2"' });
    expect(store.value).toEqual({ max: 7, note: "theirs" });
    expect(result.current.conflict).toBe(false);
  });

  test("a form that fails its checks sends nothing", async () => {
    const { store, section, wrapper, loaded } = setup({ max: 5, note: "" });
    await waitFor(() => expect(loaded.result.current.data).toBeDefined());
    const settings = loaded.result.current.data as Tagged<Limits>;
    const validate = (form: Form): Errors => (Number(form.max) > 10 ? { max: "at most 10" } : {});
    const { result } = renderHook(() => useSettingsForm(section, settings, { toForm, toBody, validate }), { wrapper });
    act(() => result.current.set("max", "11"));
    await act(() => result.current.submit());
    expect(result.current.errors).toEqual({ max: "at most 10" });
    expect(store.puts).toEqual([]);
  });
});
