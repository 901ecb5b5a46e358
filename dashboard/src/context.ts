// What every page is given: who is signed in, their projects, and how to move on.

import type { Me, Project } from './api';

export interface AppContext {
  /** Who is signed in and their organisations, as of the last `refreshMe`. */
  readonly me: Me;
  /** Asks again who is signed in: after joining, leaving or creating an organisation, or a change of role. */
  refreshMe(): Promise<void>;
  /** The user's projects, loaded once at sign-in and again after a change. */
  projects(): Project[];
  project(id: string): Project | undefined;
  refreshProjects(): Promise<void>;
  /** Goes to a page by its hash, as a link would. */
  navigate(hash: string): void;
  /** Records a page's own state (filters, range) in the address without reloading the page. */
  replaceQuery(hash: string): void;
  /** Starts the app again as the person `me` (a password reset signs its link's holder in). */
  signedIn(me: Me): void;
  /** Shows the sign-in page with `notice`, once this browser's session has ended. */
  signedOut(notice: string): void;
}

/** A page: its title for the tab, its content, and what to stop when it is left. */
export interface View {
  title: string;
  node: Node;
  dispose?(): void;
}
