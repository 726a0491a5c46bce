/**
 * socket.io's packet parser with the relay's JSON rules (shared/protocol/strict-json.ts): a frame
 * whose payload has a key twice in one object, a `__proto__` or `constructor` key, or nests too
 * deep is not decoded, and socket.io closes the connection that sent it.
 */
import { Decoder, Encoder } from 'socket.io-parser';
import { checkJsonText } from '../../shared/protocol/strict-json.ts';

class StrictDecoder extends Decoder {}

// tryParse is socket.io-parser's one JSON.parse of a payload (private in its typings): answering
// false makes the decoder throw "invalid payload", as for text that is not JSON.
const plain = (Decoder.prototype as unknown as { tryParse: (text: string) => unknown }).tryParse;
(StrictDecoder.prototype as unknown as { tryParse: (text: string) => unknown }).tryParse = function (
  this: Decoder,
  text: string,
) {
  try {
    checkJsonText(text);
  } catch {
    return false;
  }
  return plain.call(this, text);
};

export const strictParser = { Encoder, Decoder: StrictDecoder };
