import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { adminKeys, okTagged, type Tagged } from "./api";
import { useEditor, type Editor, type Errors } from "./forms";
import type { AttachmentSettings, MailSettings, TicketSettings } from "./types";

/** One per-tenant settings section of the API: read with its ETag, replaced whole with If-Match. */
export interface SettingsSection<T> {
  key: readonly unknown[];
  get: (signal?: AbortSignal) => Promise<Tagged<T>>;
  put: (body: T, ifMatch: string) => Promise<Tagged<T>>;
}

export const ticketSettings: SettingsSection<TicketSettings> = {
  key: adminKeys.ticketSettings,
  get: (signal) => okTagged(api.GET("/v1/settings/tickets", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/settings/tickets", { params: { header: { "If-Match": ifMatch } }, body })),
};

export const attachmentSettings: SettingsSection<AttachmentSettings> = {
  key: adminKeys.attachmentSettings,
  get: (signal) => okTagged(api.GET("/v1/settings/attachments", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/settings/attachments", { params: { header: { "If-Match": ifMatch } }, body })),
};

export const mailSettings: SettingsSection<MailSettings> = {
  key: adminKeys.mailSettings,
  get: (signal) => okTagged(api.GET("/v1/mail/settings", { signal })),
  put: (body, ifMatch) => okTagged(api.PUT("/v1/mail/settings", { params: { header: { "If-Match": ifMatch } }, body })),
};

/** A section as the server holds it now, with its ETag. */
export function useSettings<T>(section: SettingsSection<T>) {
  return useQuery({ queryKey: section.key, queryFn: ({ signal }) => section.get(signal) });
}

interface SettingsFormOptions<T, F> {
  toForm: (settings: Tagged<T> | null) => F;
  /** The whole section to send: `base` is what the form started from, so settings the
   * form does not show are sent back as they were. */
  toBody: (form: F, base: T) => T;
  validate?: (form: F) => Errors;
}

/**
 * The editor of one settings section (useEditor's rules: dirty state, field errors, the
 * save with If-Match, a 412 that reloads and keeps the person's edits), with the saved
 * copy written back to the section's query so every reader sees it.
 */
export function useSettingsForm<T, F>(section: SettingsSection<T>, settings: Tagged<T>, options: SettingsFormOptions<T, F>): Editor<F> {
  const client = useQueryClient();
  return useEditor<Tagged<T>, F>({
    entity: settings,
    toForm: options.toForm,
    tag: etagOf,
    validate: options.validate,
    update: (form, base, ifMatch) => section.put(options.toBody(form, base.data), ifMatch),
    reload: () => client.fetchQuery({ queryKey: section.key, staleTime: 0, queryFn: ({ signal }) => section.get(signal) }),
    onSaved: (saved) => client.setQueryData(section.key, saved),
  });
}

function etagOf<T>(tagged: Tagged<T>): string {
  return tagged.etag;
}
