import { useEffect, useId, useRef, useState } from "react";
import { Button } from "../components/ui";
import { isTyping } from "./skip";

/** Every keyboard shortcut of the app, where it works (one list: add new ones here). */
export const SHORTCUTS: { keys: string[]; action: string; where: string }[] = [
  { keys: ["?"], action: "Show this list of shortcuts", where: "Everywhere" },
  { keys: ["/"], action: "Search tickets", where: "Queues" },
  { keys: ["j"], action: "Go to the ticket list (first row)", where: "Queues" },
  { keys: ["↓", "j"], action: "Next ticket", where: "Queue list" },
  { keys: ["↑", "k"], action: "Previous ticket", where: "Queue list" },
  { keys: ["Home", "End"], action: "First / last ticket", where: "Queue list" },
  { keys: ["Enter"], action: "Open the ticket", where: "Queue list" },
  { keys: ["x"], action: "Select or unselect the ticket for a bulk action", where: "Queue list" },
  { keys: ["Ctrl/⌘ + Enter"], action: "Send the reply or note", where: "Composer" },
  { keys: ["Esc"], action: "Close a dialog", where: "Dialogs" },
];

/** `?` (outside text fields) opens a dialog listing the shortcuts; Escape closes it. */
export function ShortcutsHelp() {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.key !== "?" || isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      e.preventDefault();
      setOpen(true);
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal?.();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={() => setOpen(false)}
      data-testid="shortcuts-help"
      className="m-auto w-[36rem] max-w-[calc(100vw-2rem)] rounded-lg border border-border bg-surface p-5 text-fg shadow-card backdrop:bg-overlay"
    >
      {open ? (
        <>
          <h2 id={titleId} className="mb-3 text-base font-semibold">
            Keyboard shortcuts
          </h2>
          <table className="w-full border-collapse text-left">
            <thead className="text-fg-muted">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">Keys</th>
                <th scope="col" className="py-1 pr-3 font-medium">Does</th>
                <th scope="col" className="py-1 font-medium">Where</th>
              </tr>
            </thead>
            <tbody>
              {SHORTCUTS.map((s) => (
                <tr key={s.action} className="border-t border-border">
                  <td className="whitespace-nowrap py-1 pr-3">
                    {s.keys.map((k, i) => (
                      <span key={k}>
                        {i ? " or " : ""}
                        <kbd>{k}</kbd>
                      </span>
                    ))}
                  </td>
                  <td className="py-1 pr-3">{s.action}</td>
                  <td className="py-1 text-fg-muted">{s.where}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="mt-4 flex justify-end">
            <Button autoFocus onClick={() => setOpen(false)}>
              Close
            </Button>
          </div>
        </>
      ) : null}
    </dialog>
  );
}
