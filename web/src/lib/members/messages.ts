// The members page's text, in both languages (a missing key is a type error).
import type { MemberRole } from "../../crypto/protocol";
import type { Lang } from "../i18n";

export interface MembersMessages {
  members: string;
  name: string;
  role: string;
  keyState: string;
  actions: string;
  roles: Record<MemberRole, string>;
  unnamed: string;
  you: string;
  noKeys: string;
  keysNoGroup: string;
  stale: string;
  current: (epoch: number) => string;
  clinicalKey: string;
  clinicalHeld: (epoch: number) => string;
  clinicalWaiting: string;
  clinicalNoKeys: string;
  clinicalNoGroup: string;
  clinicalNotForRole: string;
  noGroup: string;
  noGroupAdmin: string;
  createGroup: string;
  groupCreated: string;
  rotationDue: string;
  rotate: string;
  rotated: string;
  unlockToManage: string;
  share: string;
  shared: (name: string) => string;
  remove: (name: string) => string;
  confirmRemove: (name: string) => string;
  confirm: string;
  cancel: string;
  removed: (name: string) => string;
  progress: string;
  progressText: (done: number, total: number) => string;
  invitations: string;
  noInvitations: string;
  email: string;
  inviteTitle: string;
  inviteEmail: string;
  expires: string;
  practitioner: string;
  practitionerKind: string;
  kindHere: string;
  kindElsewhere: string;
  pendingHere: (name: string) => string;
  pendingElsewhere: string;
  invite: string;
  invited: (email: string) => string;
  revoke: (email: string) => string;
  revoked: (email: string) => string;
  rolesNote: string;
  changeRole: (name: string) => string;
  changeTitle: (name: string) => string;
  newRole: string;
  agenda: string;
  leavesPractitioners: (name: string) => string;
  joinsPractitioners: (name: string) => string;
  keepsKeys: (name: string) => string;
  confirmChange: string;
  roleChanged: (name: string, role: string) => string;
  endSessions: (name: string) => string;
  confirmEndSessions: (name: string) => string;
  confirmEnd: string;
  sessionsEnded: (name: string, count: number) => string;
  loading: string;
  failed: string;
  conflict: string;
}

const fr: MembersMessages = {
  members: "Membres",
  name: "Nom",
  role: "Rôle",
  keyState: "Clé",
  actions: "Actions",
  roles: { admin: "Administrateur", practitioner: "Praticien", secretary: "Secrétaire" },
  unnamed: "Compte sans nom",
  you: "(vous)",
  noKeys: "Pas encore de clés : ce membre ne s'est pas encore connecté depuis un navigateur",
  keysNoGroup: "A ses clés ; le cabinet n'a pas encore de clé",
  stale: "Clé en attente : la clé actuelle du cabinet doit lui être transmise",
  current: (epoch) => `Détient la clé actuelle du cabinet (époque ${epoch})`,
  clinicalKey: "Clé des praticiens (notes)",
  clinicalHeld: (epoch) => `Détient la clé des praticiens (époque ${epoch})`,
  clinicalWaiting: "En attente : l'appareil d'un confrère doit lui transmettre la clé des praticiens",
  clinicalNoKeys: "En attente : ce praticien doit d'abord se connecter depuis un navigateur",
  clinicalNoGroup: "Pas encore de clé des praticiens : le premier praticien qui ouvre un dossier la crée",
  clinicalNotForRole: "Non concerné : seuls les praticiens détiennent cette clé",
  noGroup: "Ce cabinet n'a pas encore de groupe de clés : rien ne peut être chiffré pour lui. Un administrateur doit le créer.",
  noGroupAdmin: "Ce cabinet n'a pas encore de groupe de clés. Créez-le pour que les motifs et notes soient chiffrés pour ses membres.",
  createGroup: "Créer le groupe de clés",
  groupCreated: "Le groupe de clés est créé.",
  rotationDue: "Un membre a quitté le cabinet : la clé du cabinet doit être renouvelée.",
  rotate: "Renouveler la clé du cabinet",
  rotated: "La clé du cabinet est renouvelée.",
  unlockToManage: "Déverrouillez vos clés pour gérer la clé du cabinet.",
  share: "Transmettre la clé",
  shared: (name) => `La clé du cabinet est transmise à ${name}.`,
  remove: (name) => `Retirer ${name}`,
  confirmRemove: (name) => `Retirer ${name} du cabinet ? La clé du cabinet sera renouvelée dans votre navigateur : ce membre ne pourra rien ouvrir de ce qui sera chiffré ensuite.`,
  confirm: "Retirer",
  cancel: "Annuler",
  removed: (name) => `${name} ne fait plus partie du cabinet ; la clé est renouvelée.`,
  endSessions: (name) => `Fermer les sessions de ${name}`,
  confirmEndSessions: (name) =>
    `Fermer toutes les sessions de ${name} (navigateurs, applications, jetons d'accès) ? Ce membre devra se reconnecter avec son mot de passe et son code ; il en sera informé par courriel.`,
  confirmEnd: "Fermer les sessions",
  sessionsEnded: (name, count) =>
    count === 0 ? `${name} n'avait aucune session ouverte.` : count === 1 ? `1 session de ${name} a été fermée.` : `${count} sessions de ${name} ont été fermées.`,
  progress: "Renouvellement de la clé du cabinet",
  progressText: (done, total) => `${done} étapes sur ${total}`,
  invitations: "Invitations en attente",
  noInvitations: "Aucune invitation en attente.",
  email: "Adresse e-mail",
  inviteTitle: "Inviter un membre",
  inviteEmail: "Adresse à inviter",
  expires: "Expire le",
  practitioner: "Praticien concerné",
  practitionerKind: "Praticien invité",
  kindHere: "Un praticien de ce cabinet",
  kindElsewhere:
    "Exerce déjà dans un autre cabinet sur Colloque (son profil et son agenda le suivent ; vous fixez ensuite ses horaires ici)",
  pendingHere: (name) => `pour l'agenda de ${name}`,
  pendingElsewhere: "exerce déjà dans un autre cabinet sur Colloque",
  invite: "Inviter",
  invited: (email) => `Invitation envoyée à ${email}.`,
  revoke: (email) => `Annuler l'invitation de ${email}`,
  revoked: (email) => `L'invitation de ${email} est annulée.`,
  rolesNote: "Un changement de rôle est signé dans votre navigateur, comme un retrait.",
  changeRole: (name) => `Changer le rôle de ${name}`,
  changeTitle: (name) => `Nouveau rôle de ${name}`,
  newRole: "Nouveau rôle",
  agenda: "Agenda du praticien",
  leavesPractitioners: (name) =>
    `${name} n'ouvrira plus les notes : la clé des praticiens sera renouvelée par le navigateur du prochain praticien qui se connecte. La clé du cabinet ne change pas.`,
  joinsPractitioners: (name) =>
    `${name} ouvrira les notes quand le navigateur d'un praticien lui aura transmis la clé des praticiens. La clé du cabinet ne change pas.`,
  keepsKeys: (name) => `${name} garde la clé du cabinet ; rien d'autre ne change pour ses clés.`,
  confirmChange: "Changer le rôle",
  roleChanged: (name, role) => `Le rôle de ${name} est désormais : ${role}.`,
  loading: "Chargement…",
  failed: "L'opération a échoué. Rechargez la page puis réessayez.",
  conflict: "Un autre administrateur a modifié le groupe entre-temps. La page est rechargée : réessayez.",
};

const en: MembersMessages = {
  members: "Members",
  name: "Name",
  role: "Role",
  keyState: "Key",
  actions: "Actions",
  roles: { admin: "Admin", practitioner: "Practitioner", secretary: "Secretary" },
  unnamed: "Unnamed account",
  you: "(you)",
  noKeys: "No keys yet: this member has not signed in from a browser",
  keysNoGroup: "Has keys; the practice has no key yet",
  stale: "Key pending: the practice's current key must be shared with them",
  current: (epoch) => `Holds the practice's current key (epoch ${epoch})`,
  clinicalKey: "Practitioners' key (notes)",
  clinicalHeld: (epoch) => `Holds the practitioners' key (epoch ${epoch})`,
  clinicalWaiting: "Waiting for a colleague's device to share the practitioners' key",
  clinicalNoKeys: "Waiting: this practitioner must first sign in from a browser",
  clinicalNoGroup: "No practitioners' key yet: the first practitioner to open a record makes it",
  clinicalNotForRole: "Not for this role: only practitioners hold this key",
  noGroup: "This practice has no key group yet, so nothing can be encrypted for it. An admin must create it.",
  noGroupAdmin: "This practice has no key group yet. Create it so that reasons and notes are encrypted for its members.",
  createGroup: "Create the key group",
  groupCreated: "The key group is created.",
  rotationDue: "A member left the practice: the practice key must be renewed.",
  rotate: "Renew the practice key",
  rotated: "The practice key is renewed.",
  unlockToManage: "Unlock your keys to manage the practice key.",
  share: "Share the key",
  shared: (name) => `The practice key is shared with ${name}.`,
  remove: (name) => `Remove ${name}`,
  confirmRemove: (name) => `Remove ${name} from the practice? The practice key will be renewed in your browser: this member will not open anything encrypted afterwards.`,
  confirm: "Remove",
  cancel: "Cancel",
  removed: (name) => `${name} is no longer a member; the key is renewed.`,
  endSessions: (name) => `End the sessions of ${name}`,
  confirmEndSessions: (name) =>
    `End every session of ${name} (browsers, apps, access tokens)? This member will sign in again with their password and code, and is told by email.`,
  confirmEnd: "End the sessions",
  sessionsEnded: (name, count) =>
    count === 0 ? `${name} had no open session.` : count === 1 ? `1 session of ${name} was ended.` : `${count} sessions of ${name} were ended.`,
  progress: "Renewing the practice key",
  progressText: (done, total) => `${done} of ${total} steps`,
  invitations: "Pending invitations",
  noInvitations: "No pending invitation.",
  email: "Email address",
  inviteTitle: "Invite a member",
  inviteEmail: "Address to invite",
  expires: "Expires",
  practitioner: "For practitioner",
  practitionerKind: "Which practitioner",
  kindHere: "A practitioner of this practice",
  kindElsewhere:
    "Already practises at another practice on Colloque (their profile and agenda come with them; you then set their hours here)",
  pendingHere: (name) => `for the agenda of ${name}`,
  pendingElsewhere: "already practises at another practice on Colloque",
  invite: "Invite",
  invited: (email) => `Invitation sent to ${email}.`,
  revoke: (email) => `Revoke the invitation of ${email}`,
  revoked: (email) => `The invitation of ${email} is revoked.`,
  rolesNote: "A role change is signed in your browser, as a removal is.",
  changeRole: (name) => `Change the role of ${name}`,
  changeTitle: (name) => `New role for ${name}`,
  newRole: "New role",
  agenda: "Practitioner's agenda",
  leavesPractitioners: (name) =>
    `${name} will no longer open notes: the practitioners' key will be renewed by the next practitioner's browser. The practice key does not change.`,
  joinsPractitioners: (name) =>
    `${name} will open notes once a practitioner's browser has shared the practitioners' key with them. The practice key does not change.`,
  keepsKeys: (name) => `${name} keeps the practice key; nothing else changes for their keys.`,
  confirmChange: "Change the role",
  roleChanged: (name, role) => `The role of ${name} is now: ${role}.`,
  loading: "Loading…",
  failed: "That did not work. Reload the page, then try again.",
  conflict: "Another admin changed the group meanwhile. The page was reloaded: try again.",
};

export const membersMessages: Record<Lang, MembersMessages> = { fr, en };
