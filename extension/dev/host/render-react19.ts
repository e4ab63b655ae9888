import type * as React from 'react';
import { createRoot } from 'react-dom/client';

/** React 19 (Argo CD 3.5 and later): createRoot, as Argo CD's ui/src/app/index.tsx does. */
export function renderInto(container: Element, element: React.ReactElement): void {
  createRoot(container).render(element);
}
