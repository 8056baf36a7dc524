// The holder's keys once unlocked on "My appointments", shared by the reasons section and the
// waitlist offers so that one password opens both. For the page's life only, never stored.
import type { UnlockedKeys } from "../../crypto/protocol";

export const unlockedKeys: { current: UnlockedKeys | undefined } = { current: undefined };
