/** How a copy went: through the Clipboard API, the legacy copy command, or not at all. */
export type CopyOutcome = 'clipboard' | 'command' | 'failed';

/** The pieces of the browser `copyText` uses, injectable for tests. */
export interface CopyEnvironment {
  readonly clipboard?: { writeText(text: string): Promise<void> } | undefined;
  /** `document.execCommand('copy')` on the current selection. */
  readonly copyCommand?: () => boolean;
}

/**
 * Copies `text`: the Clipboard API first; where it is missing or refused (an insecure context, no
 * permission, an unfocused page), the text of `fallbackField` is selected and the legacy copy
 * command runs. On `'failed'` the field is left selected so the user can copy it by hand.
 */
export async function copyText(text: string, fallbackField: HTMLInputElement | null, environment: CopyEnvironment = browserEnvironment()): Promise<CopyOutcome> {
  try {
    if (environment.clipboard) {
      await environment.clipboard.writeText(text);
      return 'clipboard';
    }
  } catch {
    // Refused: fall through to the selection.
  }
  if (!fallbackField) return 'failed';
  fallbackField.focus();
  fallbackField.select();
  try {
    return environment.copyCommand?.() ? 'command' : 'failed';
  } catch {
    return 'failed';
  }
}

function browserEnvironment(): CopyEnvironment {
  return {
    clipboard: globalThis.navigator?.clipboard,
    copyCommand: () => document.execCommand('copy'),
  };
}
