/** Why a promise from ioredis failed, as one line without secrets (ioredis errors never carry the password). */
export const describe = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)
