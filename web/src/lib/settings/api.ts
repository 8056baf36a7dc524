// The settings API as the settings page uses it: each read gives an object's values and version,
// each edit sends that version back as If-Match (docs/scheduling.md, "Editing an agenda's
// settings"). Refusals are ApiFailure (lib/api/session.ts).
import { ok, sessionApi } from "../api/session";
import type { components } from "../api/schema";
import type { Values, Versioned } from "./fields";

type Schemas = components["schemas"];
export type VisitType = Schemas["VisitTypeDetailOut"];
export type Opening = Schemas["OpeningOut"];
export type Pause = Schemas["BreakOut"];
export type Override = Schemas["OverrideOut"];
export type Affected = Schemas["AffectedOut"];

const ifMatch = (version: string): { "if-match": string } => ({ "if-match": `"${version}"` });

function versioned<T extends { version: string }>(item: T, keys: readonly (keyof T & string)[]): Versioned {
  const values: Values = {};
  for (const key of keys) values[key] = item[key] as Values[string];
  return { values, version: item.version };
}

export const VISIT_TYPE_KEYS = ["label", "duration_minutes", "online_bookable", "patient_kind", "mode", "reminders"] as const;
export const WEEKLY_KEYS = ["weekday", "start_minute", "end_minute"] as const;
export const OPENING_KEYS = [...WEEKLY_KEYS, "visit_type_ids"] as const;
export const RULE_KEYS = [
  "slot_step_minutes",
  "min_notice_minutes",
  "max_horizon_days",
  "buffer_after_minutes",
  "daily_cap",
] as const;
export const SETTING_KEYS = ["cancel_cutoff_minutes", "anti_hoarding_days", "hold_minutes"] as const;

export const visitTypeValues = (item: VisitType): Versioned => versioned(item, VISIT_TYPE_KEYS);
export const openingValues = (item: Opening): Versioned => versioned(item, OPENING_KEYS);
export const breakValues = (item: Pause): Versioned => versioned(item, WEEKLY_KEYS);

// The forms hold exactly the fields the API takes; the casts name the body each route expects.
const as = <T>(values: Values): T => values as unknown as T;

export function settingsApi(practiceId: string, practitionerId: string) {
  const agenda = { practice_id: practiceId, practitioner_id: practitionerId };
  return {
    visitTypes: () =>
      ok(sessionApi.GET("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/visit-types", { params: { path: agenda } })),
    addVisitType: (values: Values) =>
      ok(
        sessionApi.POST("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/visit-types", {
          params: { path: agenda },
          body: as<Schemas["VisitTypeIn"]>(values),
        }),
      ),
    visitType: async (id: string) =>
      visitTypeValues(
        await ok(
          sessionApi.GET("/api/v1/practices/{practice_id}/visit-types/{visit_type_id}", {
            params: { path: { practice_id: practiceId, visit_type_id: id } },
          }),
        ),
      ),
    editVisitType: async (id: string, values: Values, version: string) =>
      visitTypeValues(
        await ok(
          sessionApi.PATCH("/api/v1/practices/{practice_id}/visit-types/{visit_type_id}", {
            params: { path: { practice_id: practiceId, visit_type_id: id }, header: ifMatch(version) },
            body: as<Schemas["VisitTypeChangesIn"]>(values),
          }),
        ),
      ),
    retireVisitType: async (id: string, version: string) => {
      await ok(
        sessionApi.DELETE("/api/v1/practices/{practice_id}/visit-types/{visit_type_id}", {
          params: { path: { practice_id: practiceId, visit_type_id: id }, header: ifMatch(version) },
        }),
      );
    },
    openings: () =>
      ok(sessionApi.GET("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/openings", { params: { path: agenda } })),
    addOpening: (values: Values) =>
      ok(
        sessionApi.POST("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/openings", {
          params: { path: agenda },
          body: as<Schemas["OpeningIn"]>(values),
        }),
      ),
    opening: async (id: string) =>
      openingValues(
        await ok(
          sessionApi.GET("/api/v1/practices/{practice_id}/openings/{opening_id}", {
            params: { path: { practice_id: practiceId, opening_id: id } },
          }),
        ),
      ),
    replaceOpening: async (id: string, values: Values, version: string) =>
      openingValues(
        await ok(
          sessionApi.PUT("/api/v1/practices/{practice_id}/openings/{opening_id}", {
            params: { path: { practice_id: practiceId, opening_id: id }, header: ifMatch(version) },
            body: as<Schemas["OpeningIn"]>(values),
          }),
        ),
      ),
    removeOpening: async (id: string, version: string) => {
      await ok(
        sessionApi.DELETE("/api/v1/practices/{practice_id}/openings/{opening_id}", {
          params: { path: { practice_id: practiceId, opening_id: id }, header: ifMatch(version) },
        }),
      );
    },
    breaks: () =>
      ok(sessionApi.GET("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/breaks", { params: { path: agenda } })),
    addBreak: (values: Values) =>
      ok(
        sessionApi.POST("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/breaks", {
          params: { path: agenda },
          body: as<Schemas["TimeRangeIn"]>(values),
        }),
      ),
    pause: async (id: string) =>
      breakValues(
        await ok(
          sessionApi.GET("/api/v1/practices/{practice_id}/breaks/{break_id}", {
            params: { path: { practice_id: practiceId, break_id: id } },
          }),
        ),
      ),
    replaceBreak: async (id: string, values: Values, version: string) =>
      breakValues(
        await ok(
          sessionApi.PUT("/api/v1/practices/{practice_id}/breaks/{break_id}", {
            params: { path: { practice_id: practiceId, break_id: id }, header: ifMatch(version) },
            body: as<Schemas["TimeRangeIn"]>(values),
          }),
        ),
      ),
    removeBreak: async (id: string, version: string) => {
      await ok(
        sessionApi.DELETE("/api/v1/practices/{practice_id}/breaks/{break_id}", {
          params: { path: { practice_id: practiceId, break_id: id }, header: ifMatch(version) },
        }),
      );
    },
    rules: async () =>
      versioned(
        await ok(
          sessionApi.GET("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/rules", {
            params: { path: agenda },
          }),
        ),
        RULE_KEYS,
      ),
    replaceRules: async (values: Values, version: string) =>
      versioned(
        await ok(
          sessionApi.PUT("/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/rules", {
            params: { path: agenda, header: ifMatch(version) },
            body: as<Schemas["AgendaRulesIn"]>(values),
          }),
        ),
        RULE_KEYS,
      ),
  };
}

export function practiceSettingsApi(practiceId: string) {
  const path = { practice_id: practiceId };
  return {
    addPractitioner: (values: Values) =>
      ok(
        sessionApi.POST("/api/v1/practices/{practice_id}/practitioners", {
          params: { path },
          body: as<Schemas["PractitionerIn"]>(values),
        }),
      ),
    read: async () =>
      versioned(await ok(sessionApi.GET("/api/v1/practices/{practice_id}/settings", { params: { path } })), SETTING_KEYS),
    edit: async (values: Values, version: string) =>
      versioned(
        await ok(
          sessionApi.PATCH("/api/v1/practices/{practice_id}/settings", {
            params: { path, header: ifMatch(version) },
            body: as<Schemas["PracticeSettingsIn"]>(values),
          }),
        ),
        SETTING_KEYS,
      ),
  };
}
