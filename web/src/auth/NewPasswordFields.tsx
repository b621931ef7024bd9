import { useState } from "react";
import { Field, Input } from "../components/ui";
import { passwordProblem } from "./linkToken";

/** The two entries of a new password and their error; `check()` says whether to send. */
export function useNewPassword() {
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | undefined>();
  const check = (): boolean => {
    const problem = passwordProblem(password, repeat);
    setError(problem ?? undefined);
    return problem === null;
  };
  /** The API's judgement of the password (common, the address itself, …). */
  const refused = (detail: string) => setError(`The password ${detail}.`);
  return { password, repeat, setPassword, setRepeat, error, check, refused };
}

/** "New password" twice, as the reset page and the magic-link page ask for it. */
export function NewPasswordFields({ state }: { state: ReturnType<typeof useNewPassword> }) {
  return (
    <>
      <Field label="New password" description="At least 12 characters." error={state.error} required>
        {(p) => (
          <Input {...p} type="password" autoComplete="new-password" value={state.password} onChange={(e) => state.setPassword(e.target.value)} />
        )}
      </Field>
      <Field label="Repeat the new password" required>
        {(p) => (
          <Input {...p} type="password" autoComplete="new-password" value={state.repeat} onChange={(e) => state.setRepeat(e.target.value)} />
        )}
      </Field>
    </>
  );
}
