// The few web-platform globals the core uses, declared here so that the core compiles without
// Node's or the DOM's type libraries (both Node 20 and browsers provide them).
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
