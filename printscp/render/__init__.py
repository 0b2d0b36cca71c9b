"""Pure rendering: a frozen PrintRequest in, pixels and files out (writers only touch disk)."""
