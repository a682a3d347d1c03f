// Moves an element to <body>, so overlays escape their parents' overflow and stacking.

export function portal(node: HTMLElement): { destroy(): void } {
  document.body.appendChild(node);
  return {
    destroy() {
      node.remove();
    },
  };
}
