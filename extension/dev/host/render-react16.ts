import type * as React from 'react';
import * as ReactDOM from 'react-dom';

/** React 16 (Argo CD up to 3.4): the legacy root API. */
export function renderInto(container: Element, element: React.ReactElement): void {
  (ReactDOM as unknown as { render(e: React.ReactElement, c: Element): void }).render(
    element,
    container,
  );
}
