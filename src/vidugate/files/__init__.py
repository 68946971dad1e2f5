"""Where result files and input images live. One interface, one adaptor per backend."""
