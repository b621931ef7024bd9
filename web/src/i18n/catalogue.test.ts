import { describe, expect, test } from "vitest";
import { en } from "./en";
import { t } from "./index";

/** The screens whose words all come from the catalogue (docs/architecture.md, "Strings").
 * A new screen moves its words to en.ts and joins this list. */
export const CATALOGUED = [
  "app/Shell.tsx",
  "app/OrgSwitcher.tsx",
  "app/router.tsx",
  "admin/SignInProvidersPage.tsx",
  "auth/SsoOffers.tsx",
  "auth/SsoLandingPage.tsx",
  "components/ui.tsx",
  "components/ConfirmDialog.tsx",
  "components/TicketBadges.tsx",
  "components/ExportButton.tsx",
  "components/icons.tsx",
  "live/LiveStatus.tsx",
  "live/PresenceHint.tsx",
  "live/TypingIndicator.tsx",
  "live/LiveProvider.tsx",
  "live/typing.ts",
  "live/presence.ts",
  "live/roster.ts",
  "live/socket.ts",
  "live/assistantStream.ts",
  "csat/scale.ts",
  "csat/SurveyPage.tsx",
  "csat/CsatCard.tsx",
  "mail/ReceivedByMail.tsx",
  "mail/OriginalView.tsx",
  "mail/HeldMailPage.tsx",
  "mail/api.ts",
  "notifications/UnsubscribePage.tsx",
  "notifications/Bell.tsx",
  "notifications/NotificationsPage.tsx",
  "notifications/preferences.ts",
  "notifications/links.ts",
  "notifications/queries.ts",
  "tickets/ImpactUrgency.tsx",
  "tickets/CommentActions.tsx",
  "tickets/Attachments.tsx",
  "tickets/upload.ts",
  "tickets/CustomFieldValues.tsx",
  "tickets/Conversation.tsx",
  "tickets/Composer.tsx",
  "tickets/useDraft.ts",
  "tickets/mutations.ts",
  "tickets/queries.ts",
  "portal/MyRequestsPage.tsx",
  "portal/RequestDetailPage.tsx",
  "portal/NewRequestPage.tsx",
  "portal/CustomFieldsForm.tsx",
  "agent/MergedNotice.tsx",
  "agent/Timeline.tsx",
  "agent/Incidents.tsx",
  "agent/SlaBadges.tsx",
  "agent/queues.ts",
  "agent/collab.ts",
  "agent/drilldown.ts",
  "agent/saveProperties.ts",
  "agent/Links.tsx",
  "agent/Merge.tsx",
  "agent/QueuePage.tsx",
  "agent/SavedViews.tsx",
  "agent/BulkBar.tsx",
  "agent/People.tsx",
  "agent/AgentTicketPage.tsx",
  "agent/PropertiesPanel.tsx",
  "assistant/AssistantWidget.tsx",
  "assistant/messages.ts",
  "admin/AutomationsPage.tsx",
  "admin/RuleEditor.tsx",
  "admin/BrandingSettings.tsx",
  "admin/PortalSettings.tsx",
  "admin/NotificationDefaults.tsx",
  "notifications/NotificationSettingsPage.tsx",
  "auth/BrandedAuth.tsx",
  "auth/LoginPage.tsx",
  "auth/RegisterPage.tsx",
  "auth/ConfirmRegistrationPage.tsx",
  "admin/contrast.ts",
  "branding/BrandingStyle.tsx",
  "branding/Welcome.tsx",
  "profile/ProfilePage.tsx",
  "profile/AvatarCard.tsx",
  "components/Avatar.tsx",
  "profile/TwoStep.tsx",
  "auth/LoginPage.tsx",
  "auth/SecondStep.tsx",
  "admin/SecuritySettings.tsx",
  "admin/DirectorySettings.tsx",
  "tickets/InvitationsPage.tsx",
];

// Every source file's text, by its path under src/ (Vite reads them at test time).
const SOURCES = import.meta.glob<string>(["../**/*.tsx", "../**/*.ts", "!../**/*.test.*", "!../api/schema.d.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
});

function source(file: string): string {
  const text = SOURCES[`../${file}`];
  if (text === undefined) throw new Error(`no such file: ${file}`);
  return text;
}

/** User-visible literals: JSX text with a letter, and the text-bearing attributes. */
export function literals(code: string): string[] {
  const found: string[] = [];
  const stripped = code
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "")
    .replace(/=>/g, "  ");
  for (const m of stripped.matchAll(/>([^<>{}]*)</g)) {
    const text = (m[1] ?? "").trim();
    // Code between a closing and an opening bracket (", errorElement: <X />") is not text.
    if (/[A-Za-z]/.test(text) && !/[;=():]/.test(text) && !/^[,}\])]/.test(text)) found.push(text);
  }
  const attrs = /\b(label|title|placeholder|aria-label|alt|description|saveLabel|legend)="([^"]*)"/g;
  for (const m of stripped.matchAll(attrs)) {
    const value = m[2] ?? "";
    if (/[A-Za-z]/.test(value) && !/^#[0-9a-fA-F]{3,6}$/.test(value)) found.push(`${m[1]}="${value}"`);
  }
  return found;
}

describe("the message catalogue", () => {
  test.each(CATALOGUED)("%s has no user-visible literal", (file) => {
    expect(literals(source(file))).toEqual([]);
  });

  test("the check sees a literal when there is one", () => {
    expect(literals('<p className="x">Hello there</p>')).toEqual(["Hello there"]);
    expect(literals('<Input placeholder="Your name" />')).toEqual(['placeholder="Your name"']);
    expect(literals("<p>{t(\"shell.signOut\")}</p>")).toEqual([]);
  });

  test("placeholders are filled, unknown ones kept", () => {
    expect(t("shell.org.switchTo", { name: "Acme" })).toBe("Switch to Acme");
    expect(t("shell.org.switchTo")).toBe(en["shell.org.switchTo"]);
  });

  test("every key the catalogued screens use exists", () => {
    for (const file of CATALOGUED) {
      const code = source(file);
      for (const m of code.matchAll(/\bt\("([\w.]+)"/g)) expect(en, `${file}: ${m[1]}`).toHaveProperty([m[1] ?? ""]);
    }
  });
});
