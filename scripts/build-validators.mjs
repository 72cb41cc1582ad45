// Placeholder until schemas/ lands: replaced by the validator generator.
export async function buildValidators() {}
