/**
 * Compile-time check that the API's answers (the generated OpenAPI types) fit the shapes
 * the screens read (./types.ts): a backend change that breaks a screen fails `tsc`.
 */
import type { components } from "../api/schema";
import type { Dashboard, ExportJob, ReportInfo, ReportResult, Subscription, SubscriptionInput } from "./types";

type S = components["schemas"];
type Fits<Actual extends Expected, Expected> = Actual;

export type Checks = [
  Fits<S["ReportResult"], ReportResult>,
  Fits<S["ReportInfo"], ReportInfo>,
  Fits<S["Dashboard"], Dashboard>,
  Fits<S["ExportJobPublic"], ExportJob>,
  Fits<S["SubscriptionPublic"], Subscription>,
  Fits<SubscriptionInput, S["SubscriptionCreate"]>,
];
