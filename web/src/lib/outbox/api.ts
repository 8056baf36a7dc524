// The mass-change breaker's pauses as the held messages page uses them (docs/notifications.md).
// Refusals are ApiFailure (lib/api/session.ts).
import { ok, sessionApi } from "../api/session";
import type { components } from "../api/schema";

export type Pause = components["schemas"]["PauseOut"];

export function outboxApi(practiceId: string) {
  const path = (pauseId: string) => ({ params: { path: { practice_id: practiceId, pause_id: pauseId } } });
  return {
    pauses: () => ok(sessionApi.GET("/api/v1/practices/{practice_id}/outbox/pauses", { params: { path: { practice_id: practiceId } } })),
    release: (pauseId: string) => ok(sessionApi.POST("/api/v1/practices/{practice_id}/outbox/pauses/{pause_id}/release", path(pauseId))),
    discard: (pauseId: string) => ok(sessionApi.POST("/api/v1/practices/{practice_id}/outbox/pauses/{pause_id}/discard", path(pauseId))),
  };
}
