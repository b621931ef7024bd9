import ts from "typescript";
import { describe, expect, test } from "vitest";
import { admin } from "./admin";
import { changes } from "./changes";
import { cmdb } from "./cmdb";
import { en } from "./en";
import { t } from "./index";
import { kb } from "./kb";
import { macros } from "./macros";
import { manager } from "./manager";
import { projects } from "./projects";
import { reports } from "./reports";

/** The lazy parts of the catalogue, by the module a screen imports `t` from. */
const PARTS: Record<string, Record<string, string>> = { admin, kb, macros, reports, manager, cmdb, changes, projects };
const ALL: Record<string, string> = { ...en, ...admin, ...kb, ...macros, ...reports, ...manager, ...cmdb, ...changes, ...projects };

/** Folders whose every file takes its words from the catalogue (part 2 of issue 20). */
const FOLDERS = ["admin", "kb", "macros", "reports", "manager", "lib", "cmdb", "changes", "projects"];

/** The screens whose words all come from the catalogue (docs/architecture.md, "Strings").
 * A new screen moves its words to en.ts and joins this list. */
export const CATALOGUED = [
  "app/Shell.tsx",
  "app/OrgSwitcher.tsx",
  "app/router.tsx",
  "admin/SignInProvidersPage.tsx",
  "admin/IntegrationsPage.tsx",
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

const inFolders = Object.keys(SOURCES)
  .map((path) => path.slice(3))
  .filter((file) => FOLDERS.includes(file.split("/")[0] ?? ""));
const CHECKED = [...new Set([...CATALOGUED, ...inFolders])];

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

const TEXT_ATTRIBUTES = new Set(["label", "title", "placeholder", "aria-label", "alt", "description", "saveLabel", "legend", "confirmLabel", "caption", "heading", "hint"]);
const TEXT_PROPERTIES = new Set(["label", "title", "description", "placeholder", "message", "text", "heading", "hint"]);

/** Words, not code: a letter pair once `{placeholders}` are gone, and a space or a capital. */
function wordy(text: string): boolean {
  const bare = text.replace(/\{\w*\}/g, "").trim();
  return /[A-Za-z]{2,}/.test(bare) && (/\s/.test(bare) || /^[A-Z][a-z]/.test(bare)) && !/^[a-z-]+(\s[a-z-:[\]/.]+)+$/.test(bare);
}

/** The literals a reader would see, found in the syntax tree rather than by pattern: JSX
 * text (also next to `{expressions}`), text-bearing attributes, a literal rendered through
 * `?:`, `??` or `||`, and the label/title/message properties of objects. */
export function visibleStrings(code: string, file = "x.tsx"): string[] {
  const tree = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true, file.endsWith(".ts") ? ts.ScriptKind.TS : ts.ScriptKind.TSX);
  const found: string[] = [];
  const rendered = (node: ts.Node): boolean => {
    let at: ts.Node = node;
    let up = node.parent;
    while (ts.isConditionalExpression(up) || ts.isParenthesizedExpression(up) || (ts.isBinaryExpression(up) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.AmpersandAmpersandToken].includes(up.operatorToken.kind))) {
      if (ts.isConditionalExpression(up) && up.condition === at) return false;
      if (ts.isBinaryExpression(up) && up.left === at && up.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken) return false;
      at = up;
      up = up.parent;
    }
    if (!ts.isJsxExpression(up)) return false;
    return ts.isJsxAttribute(up.parent) ? TEXT_ATTRIBUTES.has(up.parent.name.getText(tree)) : true;
  };
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node)) {
      const text = node.text.replace(/\s+/g, " ").trim();
      if (/[A-Za-z]{2,}/.test(text)) found.push(text);
    } else if (ts.isJsxAttribute(node) && node.initializer && ts.isStringLiteral(node.initializer)) {
      if (TEXT_ATTRIBUTES.has(node.name.getText(tree)) && /[A-Za-z]/.test(node.initializer.text) && !/^#[0-9a-fA-F]{3,6}$/.test(node.initializer.text)) found.push(`${node.name.getText(tree)}="${node.initializer.text}"`);
    } else if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) {
      const text = ts.isTemplateExpression(node) ? [node.head.text, ...node.templateSpans.map((span) => span.literal.text)].join("{}") : node.text;
      const property = ts.isPropertyAssignment(node.parent) && node.parent.initializer === node && TEXT_PROPERTIES.has(node.parent.name.getText(tree));
      if (wordy(text) && (rendered(node) || property)) found.push(text);
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}

describe("the message catalogue", () => {
  test.each(CHECKED)("%s shows no word that is not in the catalogue", (file) => {
    expect(visibleStrings(source(file), file)).toEqual([]);
  });

  test("the syntax check sees what the pattern check misses", () => {
    expect(visibleStrings("const a = <p>Role of {user.name}</p>;")).toEqual(["Role of"]);
    expect(visibleStrings('const a = <p>{busy ? "Saving…" : t("x.save")}</p>;')).toEqual(["Saving…"]);
    expect(visibleStrings("const a = <B confirmLabel={`Remove ${m.name}`} />;")).toEqual(["Remove {}"]);
    expect(visibleStrings('const a = { label: "Every ticket" };', "x.ts")).toEqual(["Every ticket"]);
    expect(visibleStrings('const a = <p className="mt-2 text-fg">{t("x.y", { n: 2 })}</p>;')).toEqual([]);
    expect(visibleStrings('if (e.key === "Enter") go(`/admin/teams/${id}`);', "x.ts")).toEqual([]);
  });

  test("a file using a lazy part's words imports from that part (which loads it)", () => {
    const lazy = new RegExp(`"((?:${Object.keys(PARTS).join("|")})\\.[\\w.]+)"`, "g");
    for (const [file, code] of Object.entries(SOURCES)) {
      if (file.startsWith("./")) continue; // the catalogue itself
      for (const m of code.matchAll(lazy)) {
        const key = m[1] ?? "";
        if (key in en || !/^\w+\.\w+\.\w/.test(key)) continue;
        const part = Object.keys(PARTS).find((name) => key in (PARTS[name] ?? {}));
        expect(part, `${file}: ${key} is in no catalogue`).toBeDefined();
        expect(code, `${file} uses ${key}`).toMatch(new RegExp(`from "[./]*i18n/${part ?? ""}"`));
      }
    }
  });

  test("no key is in two parts", () => {
    const keys = [en, ...Object.values(PARTS)].flatMap((part) => Object.keys(part));
    expect(keys.length).toBe(new Set(keys).size);
  });

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

  test("every key the checked screens use exists", () => {
    for (const file of CHECKED) {
      const code = source(file);
      for (const m of code.matchAll(/\bt\("([\w.]+)"/g)) expect(ALL, `${file}: ${m[1]}`).toHaveProperty([m[1] ?? ""]);
    }
  });
});
