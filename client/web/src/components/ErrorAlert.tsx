import { Alert, Text } from '@mantine/core';
import { ApiError } from '../api.ts';
import { useCode } from '../i18n.tsx';

/** An error of the service, told through the codes catalogue: title, hint, then the service's message. */
export function ErrorAlert({ error, onClose }: { error: unknown; onClose?: () => void }) {
  const code = useCode();
  if (!error) return null;
  const e =
    error instanceof ApiError
      ? error
      : new ApiError(0, {
          code: 'INTERNAL',
          message: error instanceof Error ? error.message : String(error),
        });
  const hint = code('errorHint', e.code);
  return (
    <Alert
      color="red"
      variant="light"
      title={code('error', e.code)}
      role="alert"
      data-testid="error"
      data-code={e.code}
      {...(onClose ? { withCloseButton: true, onClose, closeButtonLabel: '×' } : {})}
    >
      {hint && hint !== code('error', e.code) ? <Text size="sm">{hint}</Text> : null}
      {e.message ? (
        <Text size="sm" c="dimmed" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
          {e.message}
        </Text>
      ) : null}
    </Alert>
  );
}
