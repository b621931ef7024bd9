import { NavLink, Outlet } from "react-router";
import { useMe } from "../auth/AuthProvider";
import { cx } from "../components/ui";
import { adminSections } from "./routes";
import { t } from "../i18n/admin";

/** The admin area: its sections (by the caller's permissions) and the section's screen. */
export default function AdminLayout() {
  const me = useMe();
  const sections = adminSections(me);
  return (
    <div className="grid *:min-w-0 gap-6 md:grid-cols-[12rem_1fr]">
      <nav aria-label={t("admin.layout.administration")} className="md:border-r md:border-border md:pr-4">
        <p className="mb-2 hidden font-semibold text-fg-muted md:block" aria-hidden="true">
          {t("admin.layout.administration")}
        </p>
        <ul className="flex flex-wrap gap-1 md:flex-col">
          {sections.map((s) => (
            <li key={s.path}>
              <NavLink
                to={`/admin/${s.path}`}
                className={({ isActive }) =>
                  cx(
                    "block rounded-md px-3 py-2 font-medium",
                    isActive ? "bg-accent-subtle text-accent-text" : "text-fg hover:bg-surface-muted",
                  )
                }
              >
                {t(s.labelKey)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="min-w-0">
        <Outlet />
      </div>
    </div>
  );
}
