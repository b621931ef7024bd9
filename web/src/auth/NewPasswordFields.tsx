import { Field, Input } from "../components/ui";

/** "New password" twice, as the reset page and the magic-link page ask for it. */
export function NewPasswordFields({
  password,
  repeat,
  onPassword,
  onRepeat,
  error,
}: {
  password: string;
  repeat: string;
  onPassword: (value: string) => void;
  onRepeat: (value: string) => void;
  error?: string | undefined;
}) {
  return (
    <>
      <Field label="New password" description="At least 12 characters." error={error} required>
        {(p) => <Input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => onPassword(e.target.value)} />}
      </Field>
      <Field label="Repeat the new password" required>
        {(p) => <Input {...p} type="password" autoComplete="new-password" value={repeat} onChange={(e) => onRepeat(e.target.value)} />}
      </Field>
    </>
  );
}
