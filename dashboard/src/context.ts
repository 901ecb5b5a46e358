// What every page is given: who is signed in, their projects, and how to move on.

import type { Me, Project } from './api';

export interface AppContext {
  readonly me: Me;
  /** The user's projects, loaded once at sign-in and again after a change. */
  projects(): Project[];
  project(id: string): Project | undefined;
  refreshProjects(): Promise<void>;
  /** Goes to a page by its hash, as a link would. */
  navigate(hash: string): void;
  /** Records a page's own state (filters, range) in the address without reloading the page. */
  replaceQuery(hash: string): void;
}

/** A page: its title for the tab, its content, and what to stop when it is left. */
export interface View {
  title: string;
  node: Node;
  dispose?(): void;
}
