/**
 * The parts of Argo CD's UI extension API this extension uses, mirrored from Argo CD's
 * `ui/src/app/shared/services/extensions-service.ts` and `ui/src/app/shared/models.ts`.
 * Only the fields the tab reads are typed; everything else is left open so a newer
 * Argo CD adding fields never breaks the build.
 */
import type * as React from 'react';

/** Kubernetes object metadata (models.ObjectMeta, the fields we read). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * The live manifest of the selected resource (models.State: TypeMeta & {metadata} &
 * {status, spec}). For the Application tab Argo CD passes the Application itself.
 */
export interface State {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

/** models.ApplicationDestination. */
export interface ApplicationDestination {
  server?: string;
  namespace?: string;
  name?: string;
}

/** models.ResourceStatus: an object the application manages (`status.resources`). */
export interface ResourceStatus {
  group?: string;
  version?: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** models.Application (the fields we read). */
export interface Application {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: { project: string; destination?: ApplicationDestination };
  status?: { resources?: ResourceStatus[] } & Record<string, unknown>;
}

/** models.ResourceRef / ResourceNode (the fields we read). */
export interface ResourceNode {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

/** models.ApplicationTree (the fields we read). */
export interface ApplicationTree {
  nodes: ResourceNode[];
  orphanedNodes?: ResourceNode[];
}

/** ExtensionComponentProps: what Argo CD passes to a resource tab. */
export interface ExtensionComponentProps {
  resource: State;
  tree: ApplicationTree;
  application: Application;
}

export type ExtensionComponent = React.ComponentType<ExtensionComponentProps>;

/** StatusPanelComponentProps: what Argo CD passes to a status panel item. */
export interface StatusPanelComponentProps {
  application: Application;
  /** Opens the item's flyout (the sliding panel with the flyout component). */
  openFlyout: () => unknown;
}

/** StatusPanelFlyoutProps: what Argo CD passes to a status panel item's flyout. */
export interface StatusPanelFlyoutProps {
  application: Application;
  tree: ApplicationTree;
}

/**
 * `window.extensionsAPI` as Argo CD defines it. `group` and `kind` are minimatch globs
 * matched case-sensitively against the resource's group and kind; the core group is
 * the empty string, which `*` does not match.
 */
export interface ExtensionsAPI {
  registerResourceExtension(
    component: ExtensionComponent,
    group: string,
    kind: string,
    tabTitle: string,
    opts?: { icon: string },
  ): void;
  /**
   * A page of its own at `path`, with a sidebar entry `title` and icon class `fa <icon>`;
   * the component gets no props.
   */
  registerSystemLevelExtension?(
    component: React.ComponentType,
    title: string,
    path: string,
    icon: string,
  ): void;
  /**
   * An item in the application page's status panel; `flyout` is shown in a sliding panel
   * when the item calls `openFlyout`. Absent before Argo CD 2.10.
   */
  registerStatusPanelExtension?(
    component: React.ComponentType<StatusPanelComponentProps>,
    title: string,
    id: string,
    flyout?: React.ComponentType<StatusPanelFlyoutProps>,
  ): void;
}
