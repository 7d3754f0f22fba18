"""CaseConsultant: questions by mail or web form, an instant automatic first answer, human consultants."""
