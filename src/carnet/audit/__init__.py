"""The tamper-evident trail of every access decision and every change of rights."""
