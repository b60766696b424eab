/** Demo entry point: registers the app's custom elements (index.html already holds <blockspin-app>). */
import './components/blockspin-app.ts';
