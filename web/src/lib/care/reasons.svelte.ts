// What "My appointments" opened of each sealed reason, shared by the unlock section (which fills
// it) and the slot under each appointment (which shows it). Lives for the page only.
import type { ReasonStanding } from "./reason-messages";

export type ReasonState =
  | { kind: "opened"; visitTypeId: string; reason: string; standing: ReasonStanding }
  /** `message`: already in the page's language. */
  | { kind: "refused"; message: string };

export const openedReasons: Record<string, ReasonState> = $state({});
