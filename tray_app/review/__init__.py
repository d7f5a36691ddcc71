"""Review and sign-off: finding actions with undo, clinicians and PINs, signed report snapshots."""
