// What a role may do. The API refuses a viewer's changes anyway; the dashboard
// hides those controls so that a viewer is never offered something that fails.

import type { Me, Org, Role } from './api';

/** Owners and admins change things; viewers only look. */
export function canChange(role: Role | undefined): boolean {
  return role === 'owner' || role === 'admin';
}

/** The organisations this user may create projects in. */
export function orgsForNewProjects(me: Me): Org[] {
  return me.orgs.filter((org) => canChange(org.role));
}

export function roleLabel(role: Role): string {
  return role === 'owner' ? 'Owner' : role === 'admin' ? 'Admin' : 'Viewer (read only)';
}

/** Owners manage the organisation's people: invitations, roles, removal, resets, sessions. */
export function canManagePeople(role: Role | undefined): boolean {
  return role === 'owner';
}

/** Owners and admins make and revoke the organisation's admin tokens. */
export function canManageTokens(role: Role | undefined): boolean {
  return canChange(role);
}
