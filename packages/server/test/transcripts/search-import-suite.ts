export function describeSearchAndImport(_name: string, _start: unknown): void {}
