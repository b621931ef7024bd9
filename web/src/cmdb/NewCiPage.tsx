import { Link, useNavigate } from "react-router";
import { PageHeader } from "../components/ui";
import { t } from "../i18n/cmdb";
import { CiEditor } from "./CiEditor";

/** /cmdb/new (cmdb:write): a configuration item by hand. */
export default function NewCiPage() {
  const navigate = useNavigate();
  return (
    <>
      <p className="mb-2">
        <Link to="/cmdb" className="text-accent-text underline">
          {t("cmdb.detail.back")}
        </Link>
      </p>
      <PageHeader title={t("cmdb.form.newTitle")}>{t("cmdb.form.newIntro")}</PageHeader>
      <CiEditor ci={null} onSaved={(ci) => navigate(`/cmdb/${ci.id}`)} />
    </>
  );
}
