import { useEffect, useId, useRef, type ReactNode } from "react";
import { Button } from "./ui";
import { t } from "../i18n";

interface Props {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  /** The safe choice; it has the focus when the dialog opens. */
  cancelLabel?: string;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}

/** A modal confirmation on the native <dialog>: the browser traps focus, Escape closes,
 * and focus returns to the button that opened it. (Radix's Dialog locks scrolling with an
 * injected <style>, which our CSP refuses.) */
export function ConfirmDialog({ open, title, children, confirmLabel, cancelLabel = t("components.cancel"), busy = false, onConfirm, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal?.();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={`${id}-title`}
      aria-describedby={children ? `${id}-body` : undefined}
      onClose={onClose}
      className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-lg border border-border bg-surface p-5 text-fg shadow-card backdrop:bg-overlay"
    >
      <h2 id={`${id}-title`} className="text-base font-semibold">
        {title}
      </h2>
      {children ? (
        <div id={`${id}-body`} className="mt-2 text-fg-muted">
          {children}
        </div>
      ) : null}
      <div className="mt-5 flex flex-wrap justify-end gap-2">
        <Button autoFocus onClick={onClose}>
          {cancelLabel}
        </Button>
        <Button variant="danger" busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
      </div>
    </dialog>
  );
}
