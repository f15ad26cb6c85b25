/** A tiny history-API router: the server answers index.html for every console path. */
import { useEffect, useState } from 'preact/hooks';

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event('tether:navigate'));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener('tether:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('tether:navigate', update);
    };
  }, []);
  return path;
}

/** Follows in-app links without a page load; modified clicks keep the browser's behaviour. */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || anchor.target || anchor.origin !== location.origin || anchor.hasAttribute('download')) return;
  event.preventDefault();
  if (anchor.pathname + anchor.search !== location.pathname + location.search) navigate(anchor.pathname + anchor.search);
}
