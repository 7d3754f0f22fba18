"""coderef's static-site generator: official code sets in, one page per code out."""
