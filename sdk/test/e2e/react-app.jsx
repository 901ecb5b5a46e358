// The React app of the binding's browser test (`react.mjs`): a listing page written
// as seed 000's examples are, with `spoor-js/react` in place of its hook. Rendered
// to HTML on the server, then hydrated in Chromium.

import { useEffect, useState } from 'react';
import { SpoorProvider, useBehaviorTracking, useSpoor, useTrack } from 'spoor-js/react';

function PropertyDetail({ propertyId }) {
  const { trackPropertyView } = useBehaviorTracking();
  useEffect(() => {
    const start = Date.now();
    trackPropertyView(propertyId, { source: 'property_list', view_type: 'detail_page' });
    return () => {
      const duration = (Date.now() - start) / 1000;
      trackPropertyView(propertyId, { duration_seconds: duration, engaged: duration > 30 });
    };
  }, [propertyId, trackPropertyView]);
  return <h1>{`Sea-view flat ${propertyId}`}</h1>;
}

function SearchBar() {
  const { trackSearch, trackFilterApplied } = useBehaviorTracking();
  return (
    <div>
      <button id="search" onClick={() => trackSearch('sea view', { bedrooms: 2, max_price: 150000 })}>Search</button>
      <button id="filter" onClick={() => trackFilterApplied('bedrooms', 2)}>Two bedrooms</button>
    </div>
  );
}

function ContactButtons({ propertyId }) {
  const { trackContactClick } = useBehaviorTracking();
  return (
    <div>
      <button id="call" onClick={() => trackContactClick('phone', propertyId)}>Call now</button>
      <button id="whatsapp" onClick={() => trackContactClick('whatsapp', propertyId)}>WhatsApp</button>
    </div>
  );
}

function Account() {
  const spoor = useSpoor();
  const track = useTrack();
  const [flushed, setFlushed] = useState(false);
  return (
    <div>
      <button id="login" onClick={() => spoor.identify('user-react', { plan: 'pro' })}>Sign in</button>
      <button id="brochure" onClick={() => track('Brochure Downloaded', { property_id: 'prop-17' })}>Brochure</button>
      <button id="flush" onClick={() => spoor.flush().then(() => setFlushed(true))}>Send now</button>
      {flushed && <p id="flushed">Sent</p>}
    </div>
  );
}

export function App({ apiKey, endpoint }) {
  const [route, setRoute] = useState('listing');
  const leave = () => {
    history.pushState({}, '', '/search');
    setRoute('search');
  };
  return (
    <SpoorProvider config={{ apiKey, endpoint, batchSize: 5, batchInterval: 200, capture: { clicks: false, rageClicks: false, deadClicks: false, vitals: false } }}>
      {route == 'listing' ? <PropertyDetail propertyId="prop-17" /> : <h1>Search results</h1>}
      <SearchBar />
      <ContactButtons propertyId="prop-17" />
      <Account />
      <button id="leave" onClick={leave}>Back to search</button>
    </SpoorProvider>
  );
}
