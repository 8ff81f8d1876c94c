package demo

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fake personal data. Names are common French names drawn at random, so any
// resemblance to a real person is a coincidence; phone numbers all start with
// "06 00" and e-mails end in "@exemple.fr", which make them recognisably fake.

var amFirstNames = []string{
	"Nathalie", "Isabelle", "Sylvie", "Catherine", "Valérie", "Christine", "Sandrine", "Véronique",
	"Stéphanie", "Céline", "Laurence", "Karine", "Sophie", "Virginie", "Aurélie", "Émilie",
	"Caroline", "Julie", "Marie", "Anne", "Martine", "Patricia", "Corinne", "Florence",
	"Delphine", "Nadia", "Fatima", "Samira", "Élodie", "Audrey", "Mélanie", "Laëtitia",
	"Séverine", "Magali", "Christelle", "Angélique", "Chantal", "Brigitte", "Monique", "Françoise",
	"Amandine", "Jessica", "Camille", "Pauline", "Sarah", "Marion", "Claire", "Hélène",
	"Agnès", "Béatrice", "Sabrina", "Nadège", "Cécile", "Manon", "Laura", "Anaïs",
	"Ophélie", "Aïcha", "Khadija", "Gaëlle", "Soizic", "Maryvonne", "Rachida", "Josiane",
}

var amMaleFirstNames = []string{"Thierry", "Pascal", "David", "Stéphane", "Karim", "Julien", "Franck", "Mickaël"}

var parentFirstNames = []string{
	"Thomas", "Nicolas", "Julien", "Maxime", "Kévin", "Antoine", "Romain", "Alexandre",
	"Mathieu", "Guillaume", "Camille", "Julie", "Laura", "Marine", "Sarah", "Pauline",
	"Manon", "Émilie", "Léa", "Chloé", "Mohamed", "Yanis", "Inès", "Amélie",
	"Lucie", "Clément", "Florian", "Anaïs", "Océane", "Quentin", "Mélissa", "Jérémy",
}

var lastNames = []string{
	"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
	"Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David",
	"Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine",
	"Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc",
	"Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
	"Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu",
	"Gautier", "Masson", "Marchand", "Duval", "Denis", "Dumont", "Lemaire", "Noël",
	"Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Rivière",
	"Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard", "Roche",
	"Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard",
	"Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier",
	"Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland",
	"Le Gall", "Le Goff", "Guillou", "Hoarau", "Nguyen", "Benali", "Haddad", "Le Roux",
}

var streets = []string{
	"rue des Lilas", "rue de la Gare", "rue du Moulin", "allée des Tilleuls", "impasse des Rosiers",
	"rue Victor Hugo", "avenue Jean Jaurès", "rue de l'Église", "chemin des Vignes", "place de la Mairie",
	"rue Pasteur", "rue des Écoles", "allée des Peupliers", "rue du Stade", "rue des Mésanges",
	"boulevard de la Liberté", "rue des Châtaigniers", "rue de la Fontaine", "rue des Jardins", "rue du Lavoir",
	"rue des Hirondelles", "rue Jules Ferry", "allée des Chênes", "rue du Château", "rue des Prés",
	"impasse du Verger", "rue de la Paix", "rue des Coquelicots", "rue du Puits", "rue de la Forge",
}

var mamNames = []string{
	"Les P'tits Loups", "Les Lucioles", "Pomme d'Api", "Les Petits Pas", "Câlins et Doudous",
	"Les Bout'chous", "La Cabane enchantée", "Les Pitchouns", "Arc-en-ciel", "Les Petites Graines",
}

// ascii returns s lower-cased, without accents, spaces and apostrophes
// turned into '-', for e-mail addresses.
func ascii(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == ' ' || r == '\'':
			b.WriteByte('-')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

var (
	amFirstASCII     = asciiAll(amFirstNames)
	amMaleFirstASCII = asciiAll(amMaleFirstNames)
	parentFirstASCII = asciiAll(parentFirstNames)
	lastASCII        = asciiAll(lastNames)
)

func asciiAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = ascii(v)
	}
	return out
}

// appendPhone writes "06 00 xx xx xx" from the 6 digits of n.
func appendPhone(b []byte, n int) []byte {
	b = append(b, "06 00 "...)
	b = append2(b, n/10000%100)
	b = append(b, ' ')
	b = append2(b, n/100%100)
	b = append(b, ' ')
	return append2(b, n%100)
}
