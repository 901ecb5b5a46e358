// A "Copy" button. The async clipboard works only in secure contexts (HTTPS or
// localhost); a Spoor reached over plain HTTP on a LAN address falls back to
// copying a selection, so the button works wherever the dashboard does.

import { h } from '../dom';

async function writeClipboard(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, or the page is not focused): try the old way.
  }
  const area = h('textarea', { readonly: true, class: 'offscreen', 'aria-hidden': 'true' });
  area.value = text;
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/**
 * A button that copies `text()`. Its label ("Copy key") says "Copied" for a moment;
 * being a live region, the change is announced too.
 */
export function copyButton(text: () => string, label: string): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'secondary', 'aria-live': 'polite' }, label);
  let reset: ReturnType<typeof setTimeout> | undefined;
  button.addEventListener('click', async () => {
    const copied = await writeClipboard(text());
    button.textContent = copied ? 'Copied' : 'Select and copy by hand';
    clearTimeout(reset);
    reset = setTimeout(() => (button.textContent = label), 2000);
  });
  return button;
}
