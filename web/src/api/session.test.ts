import { describe, expect, test } from "vitest";
import { getToken, markSignedIn, markSignedOut, onTokenChange, refresh } from "./session";

/** A fetcher whose answer the test releases when it wants. */
function held(status: number, body: unknown = {}) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const fetcher = (async () => {
    await gate;
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  }) as unknown as typeof fetch;
  return { fetcher, release };
}

describe("a refresh answers for the session it was sent for", () => {
  test("the boot's 401 does not undo a sign-in that happened while it was in flight", async () => {
    markSignedOut();
    const seen: (string | null)[] = [];
    const stop = onTokenChange((token) => seen.push(token?.token ?? null));
    const { fetcher, release } = held(401);
    const pending = refresh(fetcher); // the silent sign-in at boot: no cookie yet
    markSignedIn({ token: "from-the-sso-code", expiresAt: Date.now() + 600_000 });
    release();
    expect((await pending)?.token).toBe("from-the-sso-code");
    expect(getToken()?.token).toBe("from-the-sso-code");
    expect(seen).toEqual(["from-the-sso-code"]); // never null after the sign-in
    stop();
  });

  test("a token refreshed for a session that was signed out meanwhile is dropped", async () => {
    markSignedIn({ token: "old", expiresAt: Date.now() + 600_000 });
    const { fetcher, release } = held(200, { access_token: "refreshed-old", expires_in: 600 });
    const pending = refresh(fetcher);
    markSignedOut();
    release();
    expect(await pending).toBeNull();
    expect(getToken()).toBeNull();
  });

  test("without a sign-in in between, a 401 still ends the session", async () => {
    markSignedIn({ token: "current", expiresAt: Date.now() + 600_000 });
    const { fetcher, release } = held(401);
    const pending = refresh(fetcher);
    release();
    expect(await pending).toBeNull();
    expect(getToken()).toBeNull();
  });
});
