"""Who may do what to which record: the pure rules (policy), and the gate every patient-data access passes."""
