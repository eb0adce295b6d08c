/**
 * x86-64 mnemonics NASM assembles but vpmu does not (neither its assembler nor its CPU model): they
 * are recognised so that `movsb` alone is an error rather than a label (NASM instruction list,
 * general-purpose and system instructions).
 */
export const UNSUPPORTED_MNEMONICS: ReadonlySet<string> = new Set([
  "movsb", "movsw", "movsd", "movsq", "stosb", "stosw", "stosd", "stosq", "lodsb", "lodsw", "lodsd", "lodsq",
  "scasb", "scasw", "scasd", "scasq", "cmpsb", "cmpsw", "cmpsd", "cmpsq", "insb", "insw", "insd", "outsb", "outsw", "outsd",
  "rep", "repe", "repz", "repne", "repnz", "lock", "xlat", "xlatb",
  "int", "int1", "into", "iret", "iretd", "iretw", "syscall", "sysret", "sysenter", "sysexit", "swapgs",
  "pushf", "popf", "pushfd", "popfd", "pushfw", "popfw", "pusha", "popa", "lahf", "sahf",
  "clc", "stc", "cmc", "cld", "std", "bswap", "bt", "bts", "btr", "btc", "bsf", "bsr", "lzcnt", "tzcnt", "popcnt",
  "shld", "shrd", "rcl", "rcr", "xadd", "cmpxchg", "cmpxchg8b", "cmpxchg16b", "leave", "enter", "retf", "retn",
  "jecxz", "lgdt", "sgdt", "sidt", "lldt", "sldt", "ltr", "str", "invlpg", "invd", "wbinvd", "rdrand", "rdseed",
  "sfence", "clflushopt", "clwb", "prefetch", "prefetchw", "prefetcht0", "prefetcht1", "prefetcht2", "prefetchnta",
  "movnti", "ud0", "ud1", "vmlaunch", "vmresume", "vmxoff", "vmxon", "vmread", "vmwrite", "vmptrld", "vmclear",
  "monitor", "mwait", "xgetbv", "xsetbv", "rdfsbase", "rdgsbase", "wrfsbase", "wrgsbase", "crc32", "adcx", "adox",
  "mulx", "andn", "bextr", "blsi", "blsr", "bzhi", "pdep", "pext", "rorx", "sarx", "shlx", "shrx", "movbe"
]);
