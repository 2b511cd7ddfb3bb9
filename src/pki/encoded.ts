/**
 * DER that asn1-x509 already encoded, placed as it is into a structure asn1-schema serializes:
 * a value with `toASN()` (asn1-schema's convertible interface) whose block writes its bytes
 * through the writer asn1js hands every child block. asn1js re-encodes every node of a structure
 * on each serialization (~60 for a leaf, and the TBS twice: alone to be signed, then inside the
 * certificate), which made leaf building most of the cost of issuance; with this, parts that
 * never change (issuer name, algorithm, constant extensions, a service's names, a key type's
 * AlgorithmIdentifier) and the signed TBS are encoded once. Nothing here writes a tag or a length.
 */
export function encoded<T>(der: ArrayBuffer): T {
  const block = {
    toBER(_sizeOnly?: boolean, writer?: { write(buffer: ArrayBuffer): void }): ArrayBuffer {
      if (!writer) return der;
      writer.write(der);
      return new ArrayBuffer(0);
    },
  };
  return { toASN: () => block, fromASN: () => { throw new TypeError('an encoded value is write-only'); } } as unknown as T;
}
