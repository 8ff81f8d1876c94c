package reports

// The indicator names below are the contract of docs/indicators.md. The
// French labels, units and sources come from mart.indicator_catalog; the
// defaults here are used only for an indicator the catalog does not list.

type indDef struct {
	label  string
	unit   string
	source string
}

// Source names used when the catalog gives none.
const (
	srcPopulation = "population (INSEE)"
	srcRegister   = "registre des assistants maternels (PMI)"
	srcAvail      = "disponibilités déclarées (monenfant.fr)"
	srcActivity   = "activité des RPE"
	srcRequests   = "demandes des familles"
	srcRPE        = "registre des RPE"
	srcCollective = "offre d'accueil collectif (CAF)"
	srcOfficial   = "taux de couverture officiels (data.caf.fr)"
)

var defaultIndicators = map[string]indDef{
	"children_under3":               {"Enfants de moins de 3 ans", "count", srcPopulation},
	"births":                        {"Naissances", "count", srcPopulation},
	"am_approved":                   {"Assistants maternels agréés", "count", srcRegister},
	"am_active":                     {"Assistants maternels en activité", "count", srcRegister},
	"am_places":                     {"Places agréées", "count", srcRegister},
	"am_places_under3":              {"Places pour les moins de 3 ans (AM en activité)", "count", srcRegister},
	"am_per_100_children":           {"Assistants maternels pour 100 enfants de moins de 3 ans", "rate", srcRegister},
	"eaje_psu_places":               {"Places en EAJE (PSU)", "count", srcCollective},
	"eaje_hors_psu_places":          {"Places en EAJE (hors PSU)", "count", srcCollective},
	"ecole_2ans_places":             {"Places à l'école à 2 ans", "count", srcCollective},
	"home_carer_places":             {"Places chez un salarié à domicile", "count", srcCollective},
	"coverage_rate":                 {"Taux de couverture (places pour 100 enfants)", "rate", srcRegister},
	"coverage_rate_am":              {"Assistants maternels", "rate", srcRegister},
	"coverage_rate_eaje_psu":        {"EAJE (PSU)", "rate", srcCollective},
	"coverage_rate_eaje_hors_psu":   {"EAJE (hors PSU)", "rate", srcCollective},
	"coverage_rate_ecole":           {"École à 2 ans", "rate", srcCollective},
	"coverage_rate_home":            {"Salariés à domicile", "rate", srcCollective},
	"official_coverage_rate":        {"Taux de couverture officiel (CAF)", "rate", srcOfficial},
	"official_coverage_rate_am":     {"Taux de couverture officiel : assistants maternels", "rate", srcOfficial},
	"official_coverage_rate_eaje":   {"Taux de couverture officiel : EAJE", "rate", srcOfficial},
	"requests_received":             {"Demandes des familles reçues", "count", srcRequests},
	"requests_atypical":             {"Demandes en horaires atypiques", "count", srcRequests},
	"requests_disability":           {"Demandes pour un enfant en situation de handicap", "count", srcRequests},
	"requests_under1":               {"Demandes pour un enfant de moins d'un an", "count", srcRequests},
	"requests_unmet":                {"Demandes sans solution", "count", srcRequests},
	"unmet_share":                   {"Part des demandes sans solution", "percent", srcRequests},
	"requests_per_available_place":  {"Demandes par place déclarée disponible", "ratio", srcRequests},
	"vacant_places":                 {"Places vacantes", "count", srcRegister},
	"vacancy_rate":                  {"Taux de places vacantes", "percent", srcRegister},
	"am_available":                  {"Assistants maternels déclarant des places disponibles", "count", srcAvail},
	"am_underactive":                {"Assistants maternels en sous-activité (3 mois ou plus)", "count", srcAvail},
	"underactive_share":             {"Part des AM en activité en sous-activité", "percent", srcAvail},
	"underactive_median_months":     {"Durée médiane de la sous-activité (mois)", "months", srcAvail},
	"availability_publication_rate": {"Part des AM ayant déclaré leurs disponibilités depuis moins de 6 mois", "percent", srcAvail},
	"unmet_with_vacancy":            {"Demandes sans solution malgré des places vacantes", "count", srcRequests},
	"mismatch_hours":                {"Horaires atypiques non proposés", "count", srcRequests},
	"mismatch_disability":           {"Handicap non accepté", "count", srcRequests},
	"mismatch_age":                  {"Âge de l'enfant non accepté", "count", srcRequests},
	"mismatch_place":                {"Places vacantes dans une autre commune", "count", srcRequests},
	"contacts":                      {"Contacts", "count", srcActivity},
	"contacts_public_parent":        {"Public : parents", "count", srcActivity},
	"contacts_public_am":            {"Public : assistants maternels", "count", srcActivity},
	"contacts_public_home_carer":    {"Public : gardes à domicile", "count", srcActivity},
	"contacts_public_partner":       {"Public : partenaires", "count", srcActivity},
	"contacts_topic_search":         {"Thème : recherche d'un mode d'accueil", "count", srcActivity},
	"contacts_topic_contract":       {"Thème : contrat et rémunération", "count", srcActivity},
	"contacts_topic_employer":       {"Thème : formalités d'employeur", "count", srcActivity},
	"contacts_topic_conflict":       {"Thème : conflit", "count", srcActivity},
	"contacts_topic_training":       {"Thème : formation", "count", srcActivity},
	"contacts_topic_profession":     {"Thème : métier", "count", srcActivity},
	"contacts_topic_other":          {"Thème : autre", "count", srcActivity},
	"contacts_channel_phone":        {"Canal : téléphone", "count", srcActivity},
	"contacts_channel_email":        {"Canal : courriel", "count", srcActivity},
	"contacts_channel_in_person":    {"Canal : sur place", "count", srcActivity},
	"contacts_channel_appointment":  {"Canal : rendez-vous", "count", srcActivity},
	"ateliers":                      {"Ateliers d'éveil et temps collectifs", "count", srcActivity},
	"atelier_children":              {"Enfants accueillis en atelier", "count", srcActivity},
	"am_atelier_participants":       {"AM ayant participé à au moins un atelier", "count", srcActivity},
	"atelier_participation_rate":    {"Taux de participation des AM aux ateliers", "percent", srcActivity},
	"training_departures":           {"Départs en formation", "count", srcActivity},
	"answer_median_days":            {"Délai médian de première réponse (jours)", "days", srcRequests},
	"answered_within_8d_share":      {"Part des demandes avec réponse sous 8 jours", "percent", srcRequests},
	"rpe_fte":                       {"Animateurs de RPE (ETP)", "count", srcRPE},
	"am_per_rpe_fte":                {"Assistants maternels par ETP d'animateur", "ratio", srcRPE},
	"am_mean_age":                   {"Âge moyen des AM agréés", "years", srcRegister},
	"am_share_55plus":               {"Part des AM de 55 ans ou plus", "percent", srcRegister},
	"am_share_60plus":               {"Part des AM de 60 ans ou plus", "percent", srcRegister},
	"am_departures_2030":            {"Départs en retraite prévisibles d'ici 2030", "count", srcRegister},
	"am_age_under30":                {"Moins de 30 ans", "count", srcRegister},
	"am_age_30_39":                  {"30 à 39 ans", "count", srcRegister},
	"am_age_40_49":                  {"40 à 49 ans", "count", srcRegister},
	"am_age_50_54":                  {"50 à 54 ans", "count", srcRegister},
	"am_age_55_59":                  {"55 à 59 ans", "count", srcRegister},
	"am_age_60_64":                  {"60 à 64 ans", "count", srcRegister},
	"am_age_65plus":                 {"65 ans ou plus", "count", srcRegister},
	"requests_per_100_children":     {"Demandes reçues pour 100 enfants de moins de 3 ans", "rate", srcRequests},
}

// Indicator groups used by the sections.
var (
	keyIndicators = []string{"coverage_rate", "children_under3", "am_approved", "am_active", "am_places",
		"am_per_100_children", "requests_received", "unmet_share", "vacancy_rate", "underactive_share",
		"answer_median_days", "am_share_55plus", "am_per_rpe_fte", "official_coverage_rate"}
	coverageModes = []string{"coverage_rate_am", "coverage_rate_eaje_psu", "coverage_rate_eaje_hors_psu",
		"coverage_rate_ecole", "coverage_rate_home"}
	coveragePlaces = []string{"am_places_under3", "eaje_psu_places", "eaje_hors_psu_places",
		"ecole_2ans_places", "home_carer_places", "official_coverage_rate_am", "official_coverage_rate_eaje"}
	trendCounts = []string{"am_active", "requests_received", "contacts"}
	trendRates  = []string{"coverage_rate", "underactive_share", "unmet_share"}
	childInds   = []string{"coverage_rate", "am_active", "requests_received", "underactive_share"}
	underInds   = []string{"am_available", "am_underactive", "underactive_share", "underactive_median_months",
		"vacant_places", "vacancy_rate", "availability_publication_rate"}
	underTrend = []string{"underactive_share", "vacancy_rate"}
	ageInds    = []string{"am_age_under30", "am_age_30_39", "am_age_40_49", "am_age_50_54", "am_age_55_59",
		"am_age_60_64", "am_age_65plus"}
	demoInds     = []string{"am_mean_age", "am_share_55plus", "am_share_60plus", "am_departures_2030"}
	contactParts = []string{"contacts_public_parent", "contacts_public_am", "contacts_public_home_carer",
		"contacts_public_partner", "contacts_topic_search", "contacts_topic_contract", "contacts_topic_employer",
		"contacts_topic_conflict", "contacts_topic_training", "contacts_topic_profession", "contacts_topic_other",
		"contacts_channel_phone", "contacts_channel_email", "contacts_channel_in_person", "contacts_channel_appointment"}
	activityInds = []string{"contacts", "ateliers", "atelier_children", "am_atelier_participants",
		"atelier_participation_rate", "training_departures", "rpe_fte", "am_per_rpe_fte"}
	answerInds  = []string{"answer_median_days", "answered_within_8d_share"}
	answerTrend = []string{"answer_median_days", "answered_within_8d_share"}
	demandInds  = []string{"requests_received", "requests_atypical", "requests_disability", "requests_under1",
		"requests_unmet", "unmet_share", "requests_per_available_place", "unmet_with_vacancy"}
	mismatchInds = []string{"mismatch_hours", "mismatch_disability", "mismatch_age", "mismatch_place"}
	compareInds  = []string{"coverage_rate", "children_under3", "am_active", "am_per_100_children",
		"requests_received", "unmet_share", "underactive_share", "answer_median_days"}
)

// trendIndicators are loaded for every month and year (not only the
// reported periods) to draw the trend charts.
func trendIndicators() []string {
	return uniq(trendCounts, trendRates, underTrend, answerTrend)
}

// smallCommuneIndicators are the only ones loaded for communes under the
// population threshold (they appear in their parent's bars and map).
func smallCommuneIndicators() []string { return uniq(childInds, []string{"children_under3"}) }

func uniq(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// levelNames are the French names of territory levels.
var levelNames = map[string]string{
	"france":      "France",
	"region":      "Région",
	"departement": "Département",
	"epci":        "Intercommunalité (EPCI)",
	"rpe":         "Territoire de RPE",
	"commune":     "Commune",
}

var levelPlural = map[string]string{
	"france":      "France",
	"region":      "Régions",
	"departement": "Départements",
	"epci":        "Intercommunalités (EPCI)",
	"rpe":         "Territoires de RPE",
	"commune":     "Communes",
}

var levelOrder = map[string]int{"france": 0, "region": 1, "departement": 2, "epci": 3, "rpe": 4, "commune": 5}

// parentAdjective is used in sentences: "la moyenne départementale".
func parentPhrase(level string) string {
	switch level {
	case "france":
		return "la moyenne nationale"
	case "region":
		return "la moyenne régionale"
	case "departement":
		return "la moyenne départementale"
	case "epci":
		return "la moyenne de l'intercommunalité"
	}
	return "la moyenne du territoire de référence"
}
