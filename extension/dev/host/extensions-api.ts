// A stand-in for Argo CD's ui/src/app/shared/services/extensions-service.ts, reduced to
// resource tabs: the same registration signature and the same minimatch (v3) matching.
import minimatch from 'minimatch3';

import type { ExtensionComponent, ExtensionsAPI } from '../../src/argocd-types';

export interface ResourceTabExtension {
  title: string;
  group: string;
  kind: string;
  component: ExtensionComponent;
  icon?: string;
}

const resourceTabs: ResourceTabExtension[] = [];

export const extensionsAPI: ExtensionsAPI = {
  registerResourceExtension(component, group, kind, tabTitle, opts) {
    resourceTabs.push({ component, group, kind, title: tabTitle, icon: opts?.icon });
  },
};

/** As Argo CD: every registration whose group and kind globs match, sorted by title. */
export function getResourceTabs(group: string, kind: string): ResourceTabExtension[] {
  return resourceTabs
    .filter((ext) => minimatch(group, ext.group) && minimatch(kind, ext.kind))
    .sort((a, b) => a.title.localeCompare(b.title));
}
