// fast-check's default size ("small") caps a generated array near 10 + 2 × minLength whatever its maxLength
// says (fast-check's ArrayConstraints docs); every fc.array here states the length it means to test, so
// an explicit maxLength is taken as the size to generate up to.
import fc from "fast-check";

fc.configureGlobal({ defaultSizeToMaxWhenMaxSpecified: true });
