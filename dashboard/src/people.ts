// The organisation's people, the caller's account and the links that bring a
// person in (an invitation) or back (a password reset): what each member's row
// offers the caller, the forms' checks before anything is sent, and the words
// and addresses the pages show. What a role may do is the API's to decide; this
// only keeps the page from offering what would be refused anyway.

import type { Id, Invite, Member, Org, Role, WebSession } from './api';
import { canManagePeople } from './roles';
import { parseTime } from './timerange';

export const ROLES: readonly Role[] = ['viewer', 'admin', 'owner'];

export function roleName(role: Role): string {
  return role === 'owner' ? 'Owner' : role === 'admin' ? 'Admin' : 'Viewer';
}

/** What a role may do, in a sentence for the invitation form and the member's own page. */
export function roleMeaning(role: Role): string {
  if (role === 'owner') return "Everything, including the organisation's people.";
  if (role === 'admin') return 'Projects, keys and admin tokens; reads everything.';
  return 'Reads everything, changes nothing.';
}

/** The link to hand to the person invited: it opens this dashboard's invitation page. */
export function inviteLink(origin: string, token: string): string {
  return `${origin}/#/invite?token=${encodeURIComponent(token)}`;
}

/** The link to hand to a member who needs a new password. */
export function resetLink(origin: string, token: string): string {
  return `${origin}/#/reset?token=${encodeURIComponent(token)}`;
}

/** What the caller may be offered on a member's row. */
export interface MemberActions {
  changeRole: boolean;
  remove: boolean;
  leave: boolean;
  resetPassword: boolean;
  signOut: boolean;
}

/**
 * An owner changes anyone's role (their own too: another owner may take over)
 * and removes anyone else; anyone may leave. A reset link or signing out of
 * every browser is for other people: the account page does both for oneself.
 */
export function memberActions(callerRole: Role | undefined, member: Member): MemberActions {
  const owner = canManagePeople(callerRole);
  return {
    changeRole: owner,
    remove: owner && !member.you,
    leave: member.you,
    resetPassword: owner && !member.you,
    signOut: owner && !member.you,
  };
}

const RANK: Record<Role, number> = { owner: 0, admin: 1, viewer: 2 };

/** Owners first, then admins, then viewers; by email within a role. */
export function sortMembers(members: Member[]): Member[] {
  return [...members].sort((a, b) => RANK[a.role] - RANK[b.role] || a.email.localeCompare(b.email));
}

/** How many owners there are: the last one can neither go nor step down. */
export function ownerCount(members: Member[]): number {
  return members.filter((m) => m.role === 'owner').length;
}

export type FormError<F extends string> = { field: F; error: string };

/** An email as the server keeps it (trimmed, lowercase), or an error; blank is allowed where optional. */
function readEmail(text: string, optional: boolean): string | { error: string } {
  const email = text.trim().toLowerCase();
  if (!email) return optional ? '' : { error: 'Type an email address.' };
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) return { error: `"${text.trim()}" is not an email address.` };
  return email;
}

/** The invitation form: a role, and an email when only that address may accept. */
export function readInviteForm(fields: { role: string; email: string }): { role: Role; email?: string } | FormError<'role' | 'email'> {
  const role = ROLES.find((r) => r === fields.role);
  if (!role) return { field: 'role', error: 'Choose the role the person will have.' };
  const email = readEmail(fields.email, true);
  if (typeof email !== 'string') return { field: 'email', ...email };
  return email ? { role, email } : { role };
}

/** An organisation's name: 1 to 100 characters once trimmed, as the server takes it. */
export function readOrgName(text: string): string | FormError<'name'> {
  const name = text.trim();
  if (!name) return { field: 'name', error: 'Name the organisation: your company or team.' };
  if ([...name].length > 100) return { field: 'name', error: 'An organisation’s name is at most 100 characters.' };
  return name;
}

/** An admin token's name, so that people know later what uses it. */
export function readTokenName(text: string): string | FormError<'name'> {
  const name = text.trim();
  if (!name) return { field: 'name', error: 'Name the token after what will use it, such as "Nightly export".' };
  if ([...name].length > 100) return { field: 'name', error: 'A token’s name is at most 100 characters.' };
  return name;
}

/**
 * A new password typed twice. Its rules (length and the like) are the server's,
 * which says what is missing; the page only catches a mistyped repeat, which
 * the server cannot see.
 */
export function readNewPassword(password: string, repeat: string): string | FormError<'password' | 'repeat'> {
  if (!password) return { field: 'password', error: 'Type a new password.' };
  if (password !== repeat) return { field: 'repeat', error: 'The two passwords differ. Type the same new password twice.' };
  return password;
}

/** The sign-up form of an invitation's page: the email (fixed when the invitation names one) and a new password. */
export function readSignUp(
  fields: { email: string; password: string; repeat: string },
  invited: string | null,
): { email: string; password: string } | FormError<'email' | 'password' | 'repeat'> {
  const email = readEmail(fields.email, false);
  if (typeof email !== 'string') return { field: 'email', ...email };
  if (invited && email !== invited.toLowerCase()) {
    return { field: 'email', error: `This invitation is for ${invited} only.` };
  }
  const password = readNewPassword(fields.password, fields.repeat);
  if (typeof password !== 'string') return password;
  return { email, password };
}

/** Who may accept an invitation, in words. */
export function inviteAudience(invite: Pick<Invite, 'email'>): string {
  return invite.email ? `Only ${invite.email}` : 'Anyone with the link';
}

/** "in 6 days", "in 3 h", "in 12 min", or "expired", for a link's expiry. */
export function expiresIn(time: string | number, now: number): string {
  const at = parseTime(time);
  if (at === null) return String(time);
  const left = at - now;
  if (left <= 0) return 'expired';
  const minutes = Math.ceil(left / 60_000);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.floor(hours / 24)} days`;
}

/** "1 browser", "3 browsers". */
export function browsers(n: number): string {
  return n === 1 ? '1 browser' : `${n} browsers`;
}

/** The answer to "sign out other sessions", in words. */
export function signedOutOthers(revoked: number): string {
  if (revoked === 0) return 'There were no other sessions: only this browser is signed in.';
  return `Signed out of ${revoked === 1 ? '1 other session' : `${revoked} other sessions`}. Only this browser is still signed in.`;
}

/** This browser's session first, then the newest. */
export function sortSessions(sessions: WebSession[]): WebSession[] {
  const at = (s: WebSession) => parseTime(s.created_at) ?? 0;
  return [...sessions].sort((a, b) => Number(b.current) - Number(a.current) || at(b) - at(a));
}

/**
 * The organisation the header's "Organisation" link opens: the one in the
 * address, else the current project's, else the last one opened (while it is
 * still one of the caller's), else the first.
 */
export function currentOrg(orgs: Org[], shown: { org?: Id | null; projectOrg?: Id | null; last?: Id | null }): Org | undefined {
  const find = (id: Id | null | undefined) => (id === null || id === undefined ? undefined : orgs.find((o) => String(o.id) === String(id)));
  return find(shown.org) ?? find(shown.projectOrg) ?? find(shown.last) ?? orgs[0];
}
