/**
 * Word lists for believable seed data. The emulated company sells industrial monitoring hardware,
 * a cloud subscription and services to other companies; the lists follow that story. Picklist
 * values are taken from the object definitions where they exist, so the lists below only fill in
 * free text.
 */

export const FIRST_NAMES: readonly string[] = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth',
  'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen',
  'Christopher', 'Lisa', 'Daniel', 'Nancy', 'Matthew', 'Betty', 'Anthony', 'Margaret', 'Mark', 'Sandra',
  'Donald', 'Ashley', 'Steven', 'Kimberly', 'Paul', 'Emily', 'Andrew', 'Donna', 'Joshua', 'Michelle',
  'Kenneth', 'Carol', 'Kevin', 'Amanda', 'Brian', 'Melissa', 'George', 'Deborah', 'Timothy', 'Stephanie',
  'Ronald', 'Rebecca', 'Jason', 'Sharon', 'Edward', 'Laura', 'Jeffrey', 'Cynthia', 'Ryan', 'Dorothy',
  'Jacob', 'Amy', 'Gary', 'Kathleen', 'Nicholas', 'Angela', 'Eric', 'Shirley', 'Jonathan', 'Emma',
  'Priya', 'Wei', 'Hiroshi', 'Fatima', 'Mateo', 'Sofia', 'Lukas', 'Aisha', 'Olumide', 'Ingrid',
  'Rafael', 'Chen', 'Anika', 'Tomás', 'Zoë', 'Björn', 'Siobhan', 'Kwame', 'Yuki', 'Noor',
];

export const LAST_NAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
  'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts',
  'Patel', 'Kim', 'Chen', 'Müller', 'Schmidt', 'Okafor', 'Tanaka', 'Kowalski', "O'Brien", 'Dubois',
  'Rossi', 'Svensson', 'Haddad', 'Novak', 'Fernandes', 'Singh', 'Murphy', 'Bergström', 'Ivanova', 'Mensah',
  'Sato', 'Kaur', 'Van der Berg', 'McAllister', 'Lindqvist', 'Costa', 'Yilmaz', 'Nakamura', 'Ahmed', 'Byrne',
];

/** Company names are two parts plus a suffix: 60 × 56 × 12 distinct names. */
export const COMPANY_FIRST: readonly string[] = [
  'Harbor', 'Granite', 'Blue Ridge', 'Summit', 'Cedar', 'Northwind', 'Ironwood', 'Silver Lake', 'Redwood', 'Keystone',
  'Pioneer', 'Beacon', 'Crescent', 'Evergreen', 'Falcon', 'Golden Gate', 'Horizon', 'Juniper', 'Lakeshore', 'Meridian',
  'Oakridge', 'Pinnacle', 'Quarry', 'Riverbend', 'Sterling', 'Tidewater', 'Union', 'Vanguard', 'Westfield', 'Yellowstone',
  'Atlas', 'Bluestem', 'Copperleaf', 'Driftwood', 'Eastgate', 'Foxglove', 'Greystone', 'Highland', 'Inland', 'Jadeport',
  'Kingsbridge', 'Lone Pine', 'Maple Creek', 'Northstar', 'Old Mill', 'Prairie', 'Queensway', 'Rockport', 'Stonebridge', 'Twin Rivers',
  'Upland', 'Valley', 'Whitewater', 'Alder', 'Baywood', 'Clearwater', 'Deer Park', 'Emerald', 'Fairhaven', 'Glacier',
];

export const COMPANY_SECOND: readonly string[] = [
  'Logistics', 'Foods', 'Manufacturing', 'Energy', 'Health', 'Construction', 'Analytics', 'Freight', 'Utilities', 'Pharma',
  'Packaging', 'Metals', 'Plastics', 'Brewing', 'Dairy', 'Water', 'Paper', 'Textiles', 'Chemicals', 'Automotive',
  'Aerospace', 'Robotics', 'Marine', 'Mining', 'Farms', 'Cold Storage', 'Bottling', 'Components', 'Tooling', 'Fabrication',
  'Power', 'Rail', 'Terminals', 'Hospitals', 'Labs', 'Semiconductors', 'Glassworks', 'Lumber', 'Cement', 'Printing',
  'Distribution', 'Warehousing', 'Biotech', 'Controls', 'Hydraulics', 'Castings', 'Ceramics', 'Coatings', 'Orchards', 'Seafood',
  'Bakeries', 'Mills', 'Pipelines', 'Turbines', 'Extrusion', 'Assembly',
];

export const COMPANY_SUFFIX: readonly string[] = [
  'Inc.', 'LLC', 'Corp.', 'Co.', 'Group', 'Ltd.', 'Holdings', 'Partners', 'GmbH', 'Industries', 'Systems', 'Solutions',
];

export interface City {
  city: string;
  state: string;
  postalCode: string;
  country: string;
  latitude: number;
  longitude: number;
  /** International dialling prefix and area code, for phone numbers. */
  phonePrefix: string;
}

export const CITIES: readonly City[] = [
  { city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'United States', latitude: 37.7897, longitude: -122.3942, phonePrefix: '(415)' },
  { city: 'Austin', state: 'TX', postalCode: '78701', country: 'United States', latitude: 30.2711, longitude: -97.7437, phonePrefix: '(512)' },
  { city: 'Chicago', state: 'IL', postalCode: '60601', country: 'United States', latitude: 41.8858, longitude: -87.6229, phonePrefix: '(312)' },
  { city: 'New York', state: 'NY', postalCode: '10013', country: 'United States', latitude: 40.7209, longitude: -74.0048, phonePrefix: '(212)' },
  { city: 'Boston', state: 'MA', postalCode: '02110', country: 'United States', latitude: 42.3572, longitude: -71.0537, phonePrefix: '(617)' },
  { city: 'Seattle', state: 'WA', postalCode: '98101', country: 'United States', latitude: 47.6101, longitude: -122.3344, phonePrefix: '(206)' },
  { city: 'Denver', state: 'CO', postalCode: '80202', country: 'United States', latitude: 39.7508, longitude: -104.9966, phonePrefix: '(303)' },
  { city: 'Atlanta', state: 'GA', postalCode: '30303', country: 'United States', latitude: 33.7537, longitude: -84.3863, phonePrefix: '(404)' },
  { city: 'Minneapolis', state: 'MN', postalCode: '55402', country: 'United States', latitude: 44.9765, longitude: -93.2713, phonePrefix: '(612)' },
  { city: 'Detroit', state: 'MI', postalCode: '48226', country: 'United States', latitude: 42.3316, longitude: -83.0466, phonePrefix: '(313)' },
  { city: 'Houston', state: 'TX', postalCode: '77002', country: 'United States', latitude: 29.7575, longitude: -95.3633, phonePrefix: '(713)' },
  { city: 'Phoenix', state: 'AZ', postalCode: '85004', country: 'United States', latitude: 33.4518, longitude: -112.0686, phonePrefix: '(602)' },
  { city: 'Pittsburgh', state: 'PA', postalCode: '15222', country: 'United States', latitude: 40.4441, longitude: -79.9959, phonePrefix: '(412)' },
  { city: 'Cleveland', state: 'OH', postalCode: '44114', country: 'United States', latitude: 41.5032, longitude: -81.6914, phonePrefix: '(216)' },
  { city: 'Charlotte', state: 'NC', postalCode: '28202', country: 'United States', latitude: 35.2271, longitude: -80.8431, phonePrefix: '(704)' },
  { city: 'Nashville', state: 'TN', postalCode: '37203', country: 'United States', latitude: 36.1540, longitude: -86.7849, phonePrefix: '(615)' },
  { city: 'Portland', state: 'OR', postalCode: '97204', country: 'United States', latitude: 45.5186, longitude: -122.6767, phonePrefix: '(503)' },
  { city: 'Salt Lake City', state: 'UT', postalCode: '84111', country: 'United States', latitude: 40.7620, longitude: -111.8868, phonePrefix: '(801)' },
  { city: 'Milwaukee', state: 'WI', postalCode: '53202', country: 'United States', latitude: 43.0410, longitude: -87.9065, phonePrefix: '(414)' },
  { city: 'Kansas City', state: 'MO', postalCode: '64105', country: 'United States', latitude: 39.1014, longitude: -94.5842, phonePrefix: '(816)' },
  { city: 'Raleigh', state: 'NC', postalCode: '27601', country: 'United States', latitude: 35.7764, longitude: -78.6389, phonePrefix: '(919)' },
  { city: 'San Diego', state: 'CA', postalCode: '92101', country: 'United States', latitude: 32.7157, longitude: -117.1611, phonePrefix: '(619)' },
  { city: 'Columbus', state: 'OH', postalCode: '43215', country: 'United States', latitude: 39.9623, longitude: -83.0007, phonePrefix: '(614)' },
  { city: 'Omaha', state: 'NE', postalCode: '68102', country: 'United States', latitude: 41.2587, longitude: -95.9379, phonePrefix: '(402)' },
  { city: 'Toronto', state: 'ON', postalCode: 'M5J 2N8', country: 'Canada', latitude: 43.6426, longitude: -79.3871, phonePrefix: '+1 (416)' },
  { city: 'Vancouver', state: 'BC', postalCode: 'V6C 3E1', country: 'Canada', latitude: 49.2872, longitude: -123.1164, phonePrefix: '+1 (604)' },
  { city: 'London', state: 'Greater London', postalCode: 'EC2V 7HH', country: 'United Kingdom', latitude: 51.5155, longitude: -0.0922, phonePrefix: '+44 20' },
  { city: 'Manchester', state: 'Greater Manchester', postalCode: 'M1 4BT', country: 'United Kingdom', latitude: 53.4794, longitude: -2.2453, phonePrefix: '+44 161' },
  { city: 'Munich', state: 'Bavaria', postalCode: '80331', country: 'Germany', latitude: 48.1374, longitude: 11.5755, phonePrefix: '+49 89' },
  { city: 'Hamburg', state: 'Hamburg', postalCode: '20095', country: 'Germany', latitude: 53.5503, longitude: 10.0006, phonePrefix: '+49 40' },
  { city: 'Lyon', state: 'Auvergne-Rhône-Alpes', postalCode: '69002', country: 'France', latitude: 45.7578, longitude: 4.8320, phonePrefix: '+33 4' },
  { city: 'Rotterdam', state: 'South Holland', postalCode: '3011 AD', country: 'Netherlands', latitude: 51.9225, longitude: 4.4792, phonePrefix: '+31 10' },
  { city: 'Sydney', state: 'NSW', postalCode: '2000', country: 'Australia', latitude: -33.8688, longitude: 151.2093, phonePrefix: '+61 2' },
  { city: 'Singapore', state: 'Singapore', postalCode: '018956', country: 'Singapore', latitude: 1.2806, longitude: 103.8500, phonePrefix: '+65' },
];

export const STREET_NAMES: readonly string[] = [
  'Market St', 'Main St', 'Oak Ave', 'Industrial Pkwy', 'Commerce Dr', 'Harbor Blvd', 'Mill Rd', 'Park Ave', 'Lake St', 'Center St',
  'Riverside Dr', 'Technology Way', 'Enterprise Ct', 'Canal St', 'Station Rd', 'Elm St', 'Airport Rd', 'Foundry Ln', 'Dock St', 'Quarry Rd',
];

export const STREET_EXTRA: readonly string[] = ['', '', '', '', 'Suite 200', 'Suite 1400', 'Floor 3', 'Building B', 'Unit 7'];

export const TITLES: readonly string[] = [
  'CEO', 'CFO', 'COO', 'CTO', 'VP Operations', 'VP Engineering', 'VP Finance', 'Director of Facilities', 'Plant Manager',
  'Maintenance Manager', 'Reliability Engineer', 'Procurement Manager', 'Purchasing Agent', 'IT Director', 'Controller',
  'Operations Analyst', 'Process Engineer', 'Site Supervisor', 'Head of Quality', 'Energy Manager', 'Buyer',
  'Accounts Payable Specialist', 'Safety Officer', 'Project Manager',
];

export const DEPARTMENTS: readonly string[] = [
  'Operations', 'Engineering', 'Finance', 'Procurement', 'IT', 'Maintenance', 'Quality', 'Executive', 'Facilities', 'Safety',
];

export interface ProductSeed {
  name: string;
  code: string;
  family: string;
  price: number;
  unit: string;
  description: string;
}

export const PRODUCTS: readonly ProductSeed[] = [
  { name: 'Sentinel Gateway G2', code: 'HW-GW-G2', family: 'Hardware', price: 1450, unit: 'Each', description: 'Edge gateway for up to 64 wireless sensors.' },
  { name: 'Sentinel Gateway G2 Rugged', code: 'HW-GW-G2R', family: 'Hardware', price: 2150, unit: 'Each', description: 'IP67 gateway for outdoor and wash-down areas.' },
  { name: 'Vibration Sensor VS-3', code: 'HW-VS-3', family: 'Hardware', price: 289, unit: 'Each', description: 'Triaxial vibration sensor for rotating equipment.' },
  { name: 'Thermal Probe TP-40', code: 'HW-TP-40', family: 'Hardware', price: 119, unit: 'Each', description: 'Surface and immersion temperature probe.' },
  { name: 'Flow Meter FM-100', code: 'HW-FM-100', family: 'Hardware', price: 940, unit: 'Each', description: 'Clamp-on ultrasonic flow meter.' },
  { name: 'Pressure Transmitter PT-7', code: 'HW-PT-7', family: 'Hardware', price: 365, unit: 'Each', description: '0–600 psi pressure transmitter.' },
  { name: 'Current Clamp CC-200', code: 'HW-CC-200', family: 'Hardware', price: 175, unit: 'Each', description: 'Non-invasive current clamp for motor loads.' },
  { name: 'Edge Controller EC-8', code: 'HW-EC-8', family: 'Hardware', price: 3200, unit: 'Each', description: 'Eight-loop controller with local analytics.' },
  { name: 'Humidity Sensor HS-2', code: 'HW-HS-2', family: 'Hardware', price: 98, unit: 'Each', description: 'Relative humidity and dew point sensor.' },
  { name: 'Leak Detector LD-1', code: 'HW-LD-1', family: 'Hardware', price: 210, unit: 'Each', description: 'Acoustic compressed-air leak detector.' },
  { name: 'Sensor Mounting Kit', code: 'HW-MNT-KIT', family: 'Hardware', price: 45, unit: 'Kit', description: 'Magnetic and stud mounts for sensors.' },
  { name: 'Battery Pack BP-5 (10 pack)', code: 'HW-BP-5-10', family: 'Hardware', price: 140, unit: 'Pack', description: 'Five-year lithium cells for wireless sensors.' },
  { name: 'Insight Cloud Standard (annual)', code: 'SW-IC-STD', family: 'Software', price: 12000, unit: 'Year', description: 'Dashboards, alerts and 13 months of history.' },
  { name: 'Insight Cloud Enterprise (annual)', code: 'SW-IC-ENT', family: 'Software', price: 48000, unit: 'Year', description: 'Unlimited sites, SSO, seven years of history.' },
  { name: 'Predictive Maintenance Add-on', code: 'SW-PDM', family: 'Software', price: 9600, unit: 'Year', description: 'Failure prediction models for rotating assets.' },
  { name: 'Energy Analytics Add-on', code: 'SW-ENA', family: 'Software', price: 7200, unit: 'Year', description: 'Energy baselining and savings verification.' },
  { name: 'API Access Add-on', code: 'SW-API', family: 'Software', price: 3600, unit: 'Year', description: 'REST and streaming API access.' },
  { name: 'Additional Site License', code: 'SW-SITE', family: 'Software', price: 2400, unit: 'Year', description: 'One additional monitored site.' },
  { name: 'Mobile Technician App (per seat)', code: 'SW-MOB', family: 'Software', price: 360, unit: 'Seat', description: 'Work orders and readings on iOS and Android.' },
  { name: 'Compliance Reporting Pack', code: 'SW-CMP', family: 'Software', price: 4800, unit: 'Year', description: 'ISO 50001 and FDA 21 CFR Part 11 reports.' },
  { name: 'Installation (per site)', code: 'SV-INST', family: 'Services', price: 3500, unit: 'Site', description: 'On-site installation and commissioning.' },
  { name: 'Implementation Package', code: 'SV-IMPL', family: 'Services', price: 15000, unit: 'Each', description: 'Project-managed rollout with integration.' },
  { name: 'On-site Training (day)', code: 'SV-TRN', family: 'Services', price: 1800, unit: 'Day', description: 'Hands-on training for up to 12 people.' },
  { name: 'Premium Support (annual)', code: 'SV-SUP-PRM', family: 'Services', price: 6000, unit: 'Year', description: '24/7 support with a four-hour response.' },
  { name: 'Health Check', code: 'SV-HC', family: 'Services', price: 2500, unit: 'Each', description: 'Yearly review of sensors, thresholds and alerts.' },
  { name: 'Custom Integration (hour)', code: 'SV-INT', family: 'Services', price: 180, unit: 'Hour', description: 'Integration work with CMMS and ERP systems.' },
  { name: 'Extended Warranty (3 years)', code: 'SV-WAR-3', family: 'Services', price: 900, unit: 'Each', description: 'Advance replacement for gateways and sensors.' },
  { name: 'Legacy Gateway G1', code: 'HW-GW-G1', family: 'Hardware', price: 990, unit: 'Each', description: 'Replaced by the G2; kept for support renewals.' },
];

export const OPPORTUNITY_TOPICS: readonly string[] = [
  'Plant-wide rollout', 'Pilot', 'Renewal', 'Expansion', 'Predictive maintenance', 'Energy monitoring', 'Cold chain monitoring',
  'Compressor fleet', 'Second site', 'Enterprise upgrade', 'Support renewal', 'Sensor refresh', 'API integration', 'Compliance reporting',
];

export const CASE_SUBJECTS: readonly string[] = [
  'Gateway offline after firmware update', 'Sensor readings drifting', 'Cannot log in to Insight Cloud', 'Alert emails not received',
  'Battery draining faster than expected', 'Dashboard shows gaps in data', 'Request for additional user licenses', 'Invoice question',
  'API rate limit reached', 'Flow meter calibration', 'SSO configuration help', 'Export to CSV times out', 'Wrong time zone in reports',
  'Replacement sensor request', 'Mounting kit missing parts', 'Threshold alerts firing repeatedly',
];

export const CASE_COMMENTS: readonly string[] = [
  'Asked the customer for the gateway serial number and firmware version.',
  'Reproduced in the lab; escalated to engineering.',
  'Customer confirmed the workaround resolves the issue.',
  'Shipped a replacement unit via overnight courier.',
  'Rolled back the firmware remotely; monitoring for 48 hours.',
  'Scheduled a call with the site supervisor for Thursday.',
  'Sent the knowledge article on battery life and sampling intervals.',
  'Waiting on the customer to reboot the gateway.',
  'Closed after no response for seven days.',
];

export const TASK_SUBJECTS: readonly string[] = [
  'Call', 'Send quote', 'Follow up on proposal', 'Email pricing', 'Schedule site visit', 'Send contract for signature',
  'Check in after installation', 'Prepare QBR deck', 'Confirm purchase order', 'Send case study', 'Call about renewal',
];

export const EVENT_SUBJECTS: readonly string[] = [
  'Discovery call', 'Site survey', 'Product demo', 'Quarterly business review', 'Installation kickoff', 'Executive briefing',
  'Training session', 'Contract negotiation', 'Lunch meeting',
];

export const CAMPAIGN_NAMES: readonly string[] = [
  'Hannover Messe booth', 'Reliability Summit sponsorship', 'Predictive Maintenance webinar series', 'Energy savings eBook',
  'Q1 customer newsletter', 'Q2 customer newsletter', 'Q3 customer newsletter', 'Q4 customer newsletter', 'Partner roadshow',
  'Cold chain compliance seminar', 'G2 gateway launch', 'Trade-in program for G1 gateways', 'Manufacturing Day open house',
  'LinkedIn ads – plant managers', 'Customer advisory board', 'Year-end renewal push', 'Food safety webinar',
  'Automation Expo', 'Referral program', 'Reactivation email sequence',
];

export const NOTE_TITLES: readonly string[] = [
  'Meeting notes', 'Pricing discussion', 'Org chart', 'Competitive situation', 'Site details', 'Decision criteria',
  'Procurement process', 'Implementation risks',
];

export const NOTE_BODIES: readonly string[] = [
  'Budget approved for next fiscal year; procurement needs three quotes.',
  'Currently evaluating a competitor with wired sensors; our wireless install time is the main advantage.',
  'Plant manager is the champion; CFO signs anything above $50k.',
  'Two sites, about 140 motors each. Wi-Fi coverage is poor in the boiler house.',
  'They want SSO with Azure AD before rollout.',
  'Asked for a reference customer in food and beverage.',
];

export const PROJECT_NAMES: readonly string[] = [
  'Sensor rollout', 'Gateway migration', 'Cloud onboarding', 'Integration with CMMS', 'Energy baseline', 'Compressor audit',
  'Pilot evaluation', 'Training program', 'Data migration', 'Alert tuning',
];

export const LEAD_COMPANY_WORDS: readonly string[] = [
  'Acorn', 'Bayside', 'Cobalt', 'Delta', 'Ember', 'Fjord', 'Gemini', 'Hawthorn', 'Indigo', 'Jasper', 'Kestrel', 'Lumen',
  'Mosaic', 'Nimbus', 'Orchid', 'Polaris', 'Quill', 'Raven', 'Saffron', 'Topaz',
];

export const EMAIL_DOMAINS_TLD: readonly string[] = ['com', 'com', 'com', 'net', 'io', 'co', 'org'];

const slugs = new Map<string, string>();

/** Lower-case ASCII slug for e-mail addresses and websites ("Müller & Co." → "mullerco"). */
export function slug(text: string): string {
  let out = slugs.get(text);
  if (out === undefined) {
    out = text
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '');
    // The vocabulary is small; the cache only grows with the word lists.
    if (slugs.size < 100_000) slugs.set(text, out);
  }
  return out;
}
