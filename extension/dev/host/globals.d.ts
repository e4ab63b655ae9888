/** The React major this host bundle was built with (webpack DefinePlugin). */
declare const __REACT_MAJOR__: number;

/** Resolved by webpack to render-react16.ts or render-react19.ts. */
declare module 'host-render' {
  import type * as React from 'react';
  export function renderInto(container: Element, element: React.ReactElement): void;
}

/** minimatch 3, the version Argo CD's UI matches extension globs with. */
declare module 'minimatch3' {
  function minimatch(target: string, pattern: string): boolean;
  export = minimatch;
}
