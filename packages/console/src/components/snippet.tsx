/**
 * Renders a search snippet: the server HTML-escapes everything but its
 * `<mark>` tags. The text between marks is decoded to plain text and rendered
 * as text, so nothing in a snippet can become markup.
 */
function decodeEntities(html: string): string {
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html');
  return doc.body.textContent ?? '';
}

export function Snippet(props: { html: string }) {
  const parts = props.html.split(/(<mark>[\s\S]*?<\/mark>)/g);
  return (
    <span class="snippet">
      {parts.map((part, i) =>
        part.startsWith('<mark>') ? <mark key={i}>{decodeEntities(part.slice(6, -7))}</mark> : <span key={i}>{decodeEntities(part)}</span>,
      )}
    </span>
  );
}
